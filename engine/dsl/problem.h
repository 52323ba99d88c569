// The vocabulary shared by the DSL parser and checker: which kind of statement a text is, and
// one thing wrong with it. Problems are located by byte offset into the statement text so the
// spec loader can turn them into file:line:col plus a caret under the offending span.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::dsl {

// The three places a statement can appear in a scenario. All share the window/condition
// grammar; compare gates replace the condition by `<metric> improves|regresses by OP N%`.
enum class StatementKind { kAssertion, kAbortIf, kCompareGate };

struct DslProblem {
  // kNote: the statement is valid and means what it says, but reads better another way
  // (`p95 > 800` is 800ms: write 800ms). Notes never make a spec invalid.
  enum class Severity { kError, kNote };
  size_t offset = 0;    // 0-based byte offset into the statement text
  size_t length = 0;    // bytes to underline; 0 at the end of the text
  std::string message;  // what is wrong: "unknown metric 'p59'"
  std::string hint;     // the next step: "did you mean 'p95'?"; may be empty
  Severity severity = Severity::kError;
  bool is_error() const { return severity == Severity::kError; }
};

// Helpers for composing messages and hints.
// The parts with `sep` between them: join({"a", "b"}, ", ") == "a, b".
std::string join(const std::vector<std::string>& parts, std::string_view sep);
// "did you mean 'p95'? " when a candidate is a plausible typo of `word` (common/text.h
// closest_match), else "". Hints start with it and go on with the list of valid words.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace faultline::dsl
