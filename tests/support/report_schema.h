// Validates artifacts against the JSON Schemas in schemas/, for tests.
#pragma once

#include <string>

namespace faultline::testing {

// "" when `json` is valid against schemas/<schema_file> (e.g. "compare.schema.json"), else
// what the validator objects to and where.
std::string schema_problem(const std::string& schema_file, const std::string& json);

// schema_problem("report.schema.json", json): a run's report artifact.
std::string report_schema_problem(const std::string& json);

}  // namespace faultline::testing
