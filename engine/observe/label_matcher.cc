#include "observe/label_matcher.h"

namespace faultline::observe {

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
    try {
      regex_ = std::make_shared<const std::regex>("^(?:" + value_ + ")$",
                                                  std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      throw std::invalid_argument("invalid regular expression in label matcher " + str() + ": " +
                                  e.what());
    }
  }
}

bool LabelMatcher::matches(std::string_view v) const {
  switch (op_) {
    case MatchOp::kEqual:
      return v == value_;
    case MatchOp::kNotEqual:
      return v != value_;
    case MatchOp::kRegexMatch:
      return std::regex_match(v.begin(), v.end(), *regex_);
    case MatchOp::kRegexNoMatch:
      break;
  }
  return !std::regex_match(v.begin(), v.end(), *regex_);
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
