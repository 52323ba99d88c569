#include "dsl/types.h"

#include "dsl/printer.h"
#include "dsl/vocabulary.h"

namespace faultline::dsl {

namespace {

std::optional<ValueType> multiply(ValueType a, ValueType b) {
  if (a == ValueType::kNumber || a == ValueType::kFraction) return b;
  if (b == ValueType::kNumber || b == ValueType::kFraction) return a;
  if ((a == ValueType::kRate && b == ValueType::kDuration) ||
      (a == ValueType::kDuration && b == ValueType::kRate)) {
    return ValueType::kNumber;
  }
  return std::nullopt;
}

std::optional<ValueType> divide(ValueType a, ValueType b) {
  if (b == ValueType::kNumber || b == ValueType::kFraction) return a;
  if (a == b) return ValueType::kNumber;
  if (a == ValueType::kNumber && b == ValueType::kDuration) return ValueType::kRate;
  if (a == ValueType::kNumber && b == ValueType::kRate) return ValueType::kDuration;
  return std::nullopt;
}

bool is_bare_number(const ValueExpr& v) {
  return v.kind == ValueExpr::Kind::kLiteral && v.literal.type == ValueType::kNumber;
}

std::string described(const ValueExpr& v, ValueType type) {
  return to_string(v) + " (" + type_noun(type) + ")";
}

std::string example_of(ValueType type) {
  switch (type) {
    case ValueType::kDuration:
      return "a duration such as 800ms";
    case ValueType::kFraction:
      return "a percentage such as 2%";
    case ValueType::kRate:
      return "a rate such as 50/s";
    case ValueType::kNumber:
      return "a plain number";
  }
  return "";
}

}  // namespace

const char* type_noun(ValueType type) {
  switch (type) {
    case ValueType::kNumber:
      return "a number";
    case ValueType::kDuration:
      return "a duration";
    case ValueType::kFraction:
      return "a percentage";
    case ValueType::kRate:
      return "a rate";
  }
  return "a value";
}

ValueType value_type(const ValueExpr& value, std::vector<DslProblem>* problems) {
  switch (value.kind) {
    case ValueExpr::Kind::kLiteral:
      return value.literal.type;
    case ValueExpr::Kind::kMetric:
      return metric_type(value.metric);
    case ValueExpr::Kind::kArith: {
      ValueType acc = value_type(value.operands.front(), problems);
      for (size_t i = 1; i < value.operands.size(); ++i) {
        const ValueExpr& rhs = value.operands[i];
        const ValueType t = value_type(rhs, problems);
        const bool mul = value.ops[i - 1] == '*';
        const auto result = mul ? multiply(acc, t) : divide(acc, t);
        if (!result && problems) {
          problems->push_back({rhs.span.offset, rhs.span.length,
                               std::string("cannot ") + (mul ? "multiply " : "divide ") +
                                   type_noun(acc) + (mul ? " by " : " by ") + described(rhs, t),
                               "scale values by plain numbers, e.g. 3 * during(warmup).p95"});
        }
        acc = result.value_or(acc);
      }
      return acc;
    }
  }
  return ValueType::kNumber;
}

std::optional<DslProblem> comparison_problem(const ValueExpr& lhs, const ValueExpr& rhs) {
  const ValueType l = value_type(lhs);
  const ValueType r = value_type(rhs);
  if (l == r) return std::nullopt;
  const bool lhs_bare = is_bare_number(lhs);
  const bool rhs_bare = is_bare_number(rhs);
  if ((lhs_bare && lhs.literal.value == 0) || (rhs_bare && rhs.literal.value == 0)) {
    return std::nullopt;
  }
  if (lhs_bare || rhs_bare) {
    const ValueExpr& bare = lhs_bare ? lhs : rhs;
    const ValueExpr& other = lhs_bare ? rhs : lhs;
    const ValueType other_type = lhs_bare ? r : l;
    if (other_type == ValueType::kRate) return std::nullopt;  // a bare number is per second
    const std::string number = bare.literal.text;
    // Only durations and percentages are left: numbers matched above, rates just now.
    const std::string hint = other_type == ValueType::kDuration
                                 ? "write " + number + "ms or " + number + "s, not " + number
                                 : "write it with %: " + number + "% (0.02 is written 2%)";
    return DslProblem{
        bare.span.offset, bare.span.length,
        "'" + number + "' has no unit but " + described(other, other_type) + " has one", hint};
  }
  const auto is_ratio_pair = [](ValueType a, ValueType b) {
    return a == ValueType::kNumber && b == ValueType::kFraction;
  };
  if (is_ratio_pair(l, r) || is_ratio_pair(r, l)) return std::nullopt;
  const ValueExpr& at = lhs.kind == ValueExpr::Kind::kLiteral ? lhs : rhs;
  const ValueType expected = &at == &lhs ? r : l;
  return DslProblem{at.span.offset, at.span.length,
                    "cannot compare " + described(lhs, l) + " with " + described(rhs, r),
                    "write " + example_of(expected)};
}

}  // namespace faultline::dsl
