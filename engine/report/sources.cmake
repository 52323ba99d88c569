target_sources(faultline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/redact.cc
  ${CMAKE_CURRENT_LIST_DIR}/report_json.cc
)
