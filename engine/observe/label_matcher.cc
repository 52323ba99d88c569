#include "observe/label_matcher.h"

#include <re2/re2.h>

namespace faultline::observe {

namespace {

// Prometheus' matcher semantics on top of RE2's defaults: `.` matches '\n' too (Prometheus 3
// compiles `^(?s:<re>)$`), and errors go to the caller instead of RE2's log on stderr. The
// anchoring comes from RE2::FullMatch rather than wrapping the text in ^(?:...)$, which a
// value such as `a)|(b` could break out of.
RE2::Options prometheus_options() {
  RE2::Options options;
  options.set_dot_nl(true);
  options.set_log_errors(false);
  return options;
}

}  // namespace

std::string_view match_op_text(MatchOp op) {
  switch (op) {
    case MatchOp::kEqual:
      return "=";
    case MatchOp::kNotEqual:
      return "!=";
    case MatchOp::kRegexMatch:
      return "=~";
    case MatchOp::kRegexNoMatch:
      break;
  }
  return "!~";
}

std::optional<MatchOp> parse_match_op(std::string_view text) {
  for (MatchOp op :
       {MatchOp::kEqual, MatchOp::kNotEqual, MatchOp::kRegexMatch, MatchOp::kRegexNoMatch}) {
    if (match_op_text(op) == text) return op;
  }
  return std::nullopt;
}

LabelMatcher::LabelMatcher(std::string name, MatchOp op, std::string value)
    : name_(std::move(name)), op_(op), value_(std::move(value)) {
  if (op_ == MatchOp::kRegexMatch || op_ == MatchOp::kRegexNoMatch) {
    auto regex = std::make_shared<const RE2>(value_, prometheus_options());
    if (!regex->ok()) {
      throw std::invalid_argument("invalid regular expression in label matcher " + str() + ": " +
                                  regex->error());
    }
    regex_ = std::move(regex);
  }
}

bool LabelMatcher::matches(std::string_view v) const {
  switch (op_) {
    case MatchOp::kEqual:
      return v == value_;
    case MatchOp::kNotEqual:
      return v != value_;
    case MatchOp::kRegexMatch:
      return RE2::FullMatch(v, *regex_);
    case MatchOp::kRegexNoMatch:
      break;
  }
  return !RE2::FullMatch(v, *regex_);
}

bool LabelMatcher::matches(const Labels& labels) const {
  return matches(label_value(labels, name_));
}

std::string LabelMatcher::str() const {
  std::string out = name_;
  out += match_op_text(op_);
  out += '"';
  for (char c : value_) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
  return out;
}

bool matches_all(const LabelMatchers& matchers, const Labels& labels) {
  for (const LabelMatcher& m : matchers) {
    if (!m.matches(labels)) return false;
  }
  return true;
}

}  // namespace faultline::observe
