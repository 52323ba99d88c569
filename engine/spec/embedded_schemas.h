// The JSON Schemas of schemas/ (scenario, environment, report, compare), compiled into the binary
// at build time (embed_files.cmake generates the definitions), so `faultline schema` and validation
// never depend on the source tree being present.
#pragma once

#include <string_view>

namespace faultline {

std::string_view scenario_schema_json();     // schemas/scenario.schema.json, byte for byte
std::string_view environment_schema_json();  // schemas/environment.schema.json, byte for byte
std::string_view report_schema_json();       // schemas/report.schema.json: run artifacts
std::string_view compare_schema_json();      // schemas/compare.schema.json: compare artifacts

}  // namespace faultline
