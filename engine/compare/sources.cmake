target_sources(faultline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/bootstrap.cc
  ${CMAKE_CURRENT_LIST_DIR}/comparison.cc
  ${CMAKE_CURRENT_LIST_DIR}/comparison_json.cc
  ${CMAKE_CURRENT_LIST_DIR}/comparison_text.cc
  ${CMAKE_CURRENT_LIST_DIR}/plan_diff.cc
  ${CMAKE_CURRENT_LIST_DIR}/sample_selection.cc
)
