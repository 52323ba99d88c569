// The vocabulary shared by the DSL parser and checker: which kind of statement a text is, and
// one thing wrong with it. Problems are located by byte offset into the statement text so the
// spec loader can turn them into file:line:col plus a caret under the offending span.
#pragma once

#include <cstddef>
#include <string>

namespace faultline::dsl {

// The three places a statement can appear in a scenario. All share the window/condition
// grammar; compare gates replace the condition by `<metric> improves|regresses by OP N%`.
enum class StatementKind { kAssertion, kAbortIf, kCompareGate };

struct DslProblem {
  size_t offset = 0;    // 0-based byte offset into the statement text
  size_t length = 0;    // bytes to underline; 0 at the end of the text
  std::string message;  // what is wrong: "unknown metric 'p59'"
  std::string hint;     // the next step: "did you mean 'p95'?"; may be empty
};

}  // namespace faultline::dsl
