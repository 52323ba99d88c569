// Writes a RunReport as JSON (schemas/report.schema.json).
#pragma once

#include <string>

#include "report/report.h"

namespace faultline {

inline constexpr int kReportSchemaVersion = 1;

std::string report_to_json(const RunReport& report);

}  // namespace faultline
