// Validates a report artifact against schemas/report.schema.json, for tests.
#pragma once

#include <string>

namespace faultline::testing {

// "" when `json` is a valid report, else what the validator objects to and where.
std::string report_schema_problem(const std::string& json);

}  // namespace faultline::testing
