// Diagnostic: one problem found while loading a scenario or environment file, with the place it
// is at, the field it concerns, what is wrong in words, and what to do about it. Loading never
// stops at the first problem: every problem becomes one Diagnostic.
//
// Text form (format_diagnostic), as compilers print it:
//   specs/x.yaml:14:15: error: phases[1].duration: expected a duration like "30s", got "30 sec"
//      14 |     duration: 30 sec
//         |               ^~~~~~
//     hint: durations are numbers with units: 250ms, 30s, 1m30s
#pragma once

#include <string>
#include <vector>

#include "spec/scenario.h"

namespace faultline {

struct Diagnostic {
  SourceLoc loc;                   // line/column 0 when unknown (e.g. an unreadable file)
  std::string severity = "error";  // "error" (the spec is invalid), "warning" or "note"
  std::string path;                // field concerned: "phases[1].duration"; empty: the file
  std::string message;             // what is wrong, in words
  std::string hint;                // what to do; empty when there is nothing to add
  std::string source_line;         // text of loc.line, shown with a caret; may be empty
  int length = 1;                  // columns to underline from loc.column (>= 1)

  bool is_error() const { return severity == "error"; }
};

// "file:line:col: severity: path: message", then the source line with a caret under the column
// (when both are known), then "  hint: ..." (when there is one). No trailing newline. `color`
// adds ANSI colors (bold place, red error, magenta warning, green caret).
std::string format_diagnostic(const Diagnostic& d, bool color);

// A JSON array for tools: [{"file","line","column","severity","path","message","hint"}...].
std::string diagnostics_to_json(const std::vector<Diagnostic>& diagnostics);

bool has_errors(const std::vector<Diagnostic>& diagnostics);
size_t count_severity(const std::vector<Diagnostic>& diagnostics, const std::string& severity);

}  // namespace faultline
