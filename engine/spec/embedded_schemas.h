// The JSON Schemas of schemas/ (scenario, environment), compiled into the binary at build time
// (embed_files.cmake generates the definitions), so `faultline schema` and validation never
// depend on the source tree being present.
#pragma once

#include <string_view>

namespace faultline {

std::string_view scenario_schema_json();     // schemas/scenario.schema.json, byte for byte
std::string_view environment_schema_json();  // schemas/environment.schema.json, byte for byte

}  // namespace faultline
