target_sources(faultline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/arrival_stream.cc
  ${CMAKE_CURRENT_LIST_DIR}/compiler.cc
  ${CMAKE_CURRENT_LIST_DIR}/plan_json.cc
)
target_link_libraries(faultline PUBLIC rapidjson)
