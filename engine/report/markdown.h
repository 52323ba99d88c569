// Markdown summaries for CI pages (GitHub's step summary, a PR comment): a verdict line, a
// table of assertions, per-phase figures and the paths of the files written. Plain GitHub
// Flavoured Markdown; every cell is escaped so a '|' or newline in an assertion keeps the
// table whole.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "report/report.h"

namespace faultline::markdown {

// Text for one table cell: '|' escaped, newlines as spaces, backticks kept.
std::string cell(std::string_view text);

// A table: header row, separator, rows (each as many cells as the header).
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows);

// "✅ passed", "❌ failed", "⚠️ inconclusive" ...: a status word with a mark that reads at a
// glance in a list of CI steps.
std::string status_mark(std::string_view status);

}  // namespace faultline::markdown

namespace faultline {

// A run's summary: heading with scenario and verdict, the assertions (verdict, statement,
// observed, window, source), the abort that fired, the phases (planned and sent rates, p50,
// p95, p99, error rate), and the files (`files`: "artifact" -> path, ...).
std::string run_summary_markdown(const RunReport& report,
                                 const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace faultline
