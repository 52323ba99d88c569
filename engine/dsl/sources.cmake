target_sources(faultline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/check.cc
)
