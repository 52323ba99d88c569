target_sources(faultline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/evaluator.cc
  ${CMAKE_CURRENT_LIST_DIR}/value_format.cc
)
