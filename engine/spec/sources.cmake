# engine/spec: loading, validating and modelling scenario and environment files.
target_sources(faultline PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/diagnostic.cc
  ${CMAKE_CURRENT_LIST_DIR}/diagnostic_sink.cc
  ${CMAKE_CURRENT_LIST_DIR}/environment_builder.cc
  ${CMAKE_CURRENT_LIST_DIR}/json_fields.cc
  ${CMAKE_CURRENT_LIST_DIR}/loader.cc
  ${CMAKE_CURRENT_LIST_DIR}/route_template.cc
  ${CMAKE_CURRENT_LIST_DIR}/scenario.cc
  ${CMAKE_CURRENT_LIST_DIR}/scenario_builder.cc
  ${CMAKE_CURRENT_LIST_DIR}/scenario_checks.cc
  ${CMAKE_CURRENT_LIST_DIR}/schema_checker.cc
  ${CMAKE_CURRENT_LIST_DIR}/service_placeholders.cc
  ${CMAKE_CURRENT_LIST_DIR}/source_map.cc
  ${CMAKE_CURRENT_LIST_DIR}/variable_substitution.cc
  ${CMAKE_CURRENT_LIST_DIR}/yaml_reader.cc
)

# The schemas are compiled in (faultline schema, validation without the source tree).
set(faultline_schema_dir ${PROJECT_SOURCE_DIR}/schemas)
set(faultline_embedded_schemas ${CMAKE_CURRENT_BINARY_DIR}/spec/embedded_schemas.cc)
add_custom_command(
  OUTPUT ${faultline_embedded_schemas}
  COMMAND ${CMAKE_COMMAND} -DOUTPUT=${faultline_embedded_schemas} -DHEADER=spec/embedded_schemas.h
          "-DENTRIES=scenario_schema_json=${faultline_schema_dir}/scenario.schema.json|environment_schema_json=${faultline_schema_dir}/environment.schema.json|report_schema_json=${faultline_schema_dir}/report.schema.json|compare_schema_json=${faultline_schema_dir}/compare.schema.json"
          -P ${CMAKE_CURRENT_LIST_DIR}/embed_files.cmake
  DEPENDS ${faultline_schema_dir}/scenario.schema.json
          ${faultline_schema_dir}/environment.schema.json
          ${faultline_schema_dir}/report.schema.json
          ${faultline_schema_dir}/compare.schema.json
          ${CMAKE_CURRENT_LIST_DIR}/embed_files.cmake
  COMMENT "Embedding schemas/*.schema.json"
  VERBATIM)
target_sources(faultline PRIVATE ${faultline_embedded_schemas})

target_link_libraries(faultline PUBLIC rapidjson PRIVATE yaml-cpp)
