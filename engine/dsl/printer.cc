#include "dsl/printer.h"

#include <charconv>

namespace faultline::dsl {

namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

std::string condition_operand(const Condition& c, Condition::Kind parent) {
  // Only `or` inside `and` needs parentheses; and/or never nest in their own kind.
  const bool needs = parent == Condition::Kind::kAnd && c.kind == Condition::Kind::kOr;
  return needs ? "(" + to_string(c) + ")" : to_string(c);
}

}  // namespace

std::string format_plain_number(double value) {
  char buf[400];
  const auto r = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  if (r.ec != std::errc()) return "0";  // unreachable for finite values below 1e308
  return std::string(buf, r.ptr);
}

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string format_name(std::string_view name) {
  if (name.empty()) return quote(name);
  const char first = name.front();
  bool bare = true;
  if ((first >= '0' && first <= '9')) {
    // A number token with a unit suffix reads back whole only when it is all letters/digits.
    for (const char c : name) bare = bare && is_alnum(c);
  } else if (is_alnum(first) || first == '_') {
    for (const char c : name) bare = bare && (is_alnum(c) || c == '_' || c == '-');
  } else {
    bare = false;
  }
  return bare ? std::string(name) : quote(name);
}

std::string to_string(CompareOp op) {
  switch (op) {
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kEq:
      return "==";
    case CompareOp::kNe:
      return "!=";
  }
  return "?";
}

std::string to_string(Gate::Direction direction) {
  return direction == Gate::Direction::kImproves ? "improves" : "regresses";
}

std::string to_string(const Window& window) {
  switch (window.kind) {
    case Window::Kind::kDuring:
      return "during(" + format_name(window.phase) + ")";
    case Window::Kind::kDuringLast:
      return "during(" + format_name(window.phase) + ", last " + format_duration(window.last) + ")";
    case Window::Kind::kAfter:
      return "after(" + format_name(window.phase) + ")";
    case Window::Kind::kOverall:
      return "overall";
  }
  return "?";
}

std::string to_string(const ClientQuery& query) {
  std::string out = query.metric;
  if (query.selectors.empty()) return out;
  out += "(";
  for (size_t i = 0; i < query.selectors.size(); ++i) {
    if (i) out += ", ";
    out += query.selectors[i].first + "=" + format_name(query.selectors[i].second);
  }
  return out + ")";
}

std::string to_string(const ServerQuery& query) {
  std::string out = "metric." + query.function + "(" + query.metric_name;
  if (!query.matchers.empty()) {
    out += "{";
    for (size_t i = 0; i < query.matchers.size(); ++i) {
      if (i) out += ", ";
      const LabelMatcher& m = query.matchers[i];
      out += m.name + m.op + quote(m.value);
    }
    out += "}";
  }
  return out + ")";
}

std::string to_string(const RunFactQuery& query) {
  if (query.source == "history") return "history." + query.name;
  return "verify." + query.name + "(" + quote(query.pointer) + ")";
}

std::string to_string(const MetricRef& metric) {
  std::string out = metric.window ? to_string(*metric.window) + "." : "";
  switch (metric.side) {
    case MetricRef::Side::kClient:
      return out + to_string(metric.client);
    case MetricRef::Side::kServer:
      return out + to_string(metric.server);
    case MetricRef::Side::kRunFact:
      return out + to_string(metric.fact);
  }
  return out;
}

std::string to_string(const ValueExpr& value) {
  switch (value.kind) {
    case ValueExpr::Kind::kLiteral:
      return value.literal.text;
    case ValueExpr::Kind::kMetric:
      return to_string(value.metric);
    case ValueExpr::Kind::kArith: {
      std::string out;
      for (size_t i = 0; i < value.operands.size(); ++i) {
        if (i) out += std::string(" ") + value.ops[i - 1] + " ";
        const ValueExpr& operand = value.operands[i];
        // Left-associative: a nested chain needs parentheses (a / (b * c)).
        out += operand.kind == ValueExpr::Kind::kArith ? "(" + to_string(operand) + ")"
                                                       : to_string(operand);
      }
      return out;
    }
  }
  return "?";
}

std::string to_string(const Condition& condition) {
  switch (condition.kind) {
    case Condition::Kind::kCompare:
      return to_string(condition.values[0]) + " " + to_string(condition.op) + " " +
             to_string(condition.values[1]);
    case Condition::Kind::kBackToNormal:
      return to_string(condition.values[0]) + " back to normal";
    case Condition::Kind::kAlert: {
      std::string out = "alert(" + format_name(condition.alert) + ")";
      switch (condition.alert_state) {
        case AlertState::kFires:
          out += " fires";
          if (condition.alert_within) out += " within " + format_duration(*condition.alert_within);
          return out;
        case AlertState::kNeverFires:
          return out + " never fires";
        case AlertState::kResolved:
          return out + " resolved";
      }
      return out;
    }
    case Condition::Kind::kAnd:
    case Condition::Kind::kOr: {
      const char* joiner = condition.kind == Condition::Kind::kAnd ? " and " : " or ";
      std::string out;
      for (size_t i = 0; i < condition.operands.size(); ++i) {
        if (i) out += joiner;
        out += condition_operand(condition.operands[i], condition.kind);
      }
      return out;
    }
  }
  return "?";
}

std::string to_string(const Statement& statement) {
  std::string out = to_string(statement.window) + ": ";
  if (statement.gate) {
    const Gate& g = *statement.gate;
    return out + to_string(g.value) + " " + to_string(g.direction) + " by " + to_string(g.op) +
           " " + g.threshold.text;
  }
  if (statement.condition) out += to_string(*statement.condition);
  if (statement.recovery) out += " within " + format_duration(statement.recovery->limit);
  return out;
}

}  // namespace faultline::dsl
