// Writes a RunReport as JSON (schemas/report.schema.json) and files it atomically.
#pragma once

#include <string>

#include "report/report.h"

namespace faultline {

inline constexpr int kReportSchemaVersion = 1;

std::string report_to_json(const RunReport& report);

// Writes `content` to `path` atomically: a temp file in the same directory, fsync, rename.
// Readers see the old file or the new one, never half of one. Throws on failure.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace faultline
