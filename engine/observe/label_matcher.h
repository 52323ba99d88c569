// LabelMatcher: one PromQL-style label matcher (`route="/orders"`, `code!="200"`,
// `code=~"5.."`, `path!~"/health.*"`), compiled once and applied to many series.
//
// Semantics follow PromQL: a missing label has the value "" (so `a=""` matches series without
// `a`, and `a!=""` requires it); regexes are anchored at both ends (`5..` does not match
// "1500", `a` does not match "ab"). Regexes are RE2 syntax, as in Prometheus (Go's regexp
// implements it): (?i), \pL and [[:alpha:]] work, backreferences and lookarounds do not. `.` also
// matches a newline, as Prometheus 3 does (it compiles `^(?s:<re>)$`). RE2 runs in time
// linear in the label value and never recurses per character, so a label value of any length
// is safe to match (libstdc++'s ECMAScript engine overflowed the stack near 20k characters).
//
// Thread-safety: const methods are safe to call concurrently (RE2 is thread-safe for
// matching). Copies share the compiled regex, so a copy costs a refcount and two strings.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "observe/metrics_text.h"

namespace re2 {
class RE2;
}

namespace faultline::observe {

enum class MatchOp { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

// "=", "!=", "=~", "!~".
std::string_view match_op_text(MatchOp op);
// The inverse of match_op_text; nullopt for anything else.
std::optional<MatchOp> parse_match_op(std::string_view text);

class LabelMatcher {
 public:
  // Throws std::invalid_argument naming the matcher and RE2's reason ("missing ): (a") when a
  // regex does not compile.
  LabelMatcher(std::string name, MatchOp op, std::string value);

  const std::string& name() const { return name_; }
  MatchOp op() const { return op_; }
  const std::string& value() const { return value_; }

  bool matches(std::string_view label_value) const;
  // Looks the label up in `labels` ("" when absent) and matches it.
  bool matches(const Labels& labels) const;

  // `name="value"` with the value escaped, for messages.
  std::string str() const;

 private:
  std::string name_;
  MatchOp op_;
  std::string value_;
  std::shared_ptr<const re2::RE2> regex_;  // for =~ and !~; shared so copies stay cheap
};

using LabelMatchers = std::vector<LabelMatcher>;

// True when every matcher matches.
bool matches_all(const LabelMatchers& matchers, const Labels& labels);

}  // namespace faultline::observe
