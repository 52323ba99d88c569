// Types of DSL values (what a value measures) and the rules for combining them. The checker
// reports what breaks the rules; the judge uses the same rules to know how to print a value.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dsl/ast.h"
#include "dsl/problem.h"

namespace faultline::dsl {

// "a duration", "a percentage", "a rate", "a number".
const char* type_noun(ValueType type);

// The type of a value. Arithmetic: a number or percentage scales anything (3 * p95 is a
// duration), a value divided by one of its own type is a number (p95 / during(warmup).p95),
// a number per duration is a rate and a rate times a duration a number. Anything else (a
// duration times a duration) is reported into `problems` when given; the left type is kept.
ValueType value_type(const ValueExpr& value, std::vector<DslProblem>* problems = nullptr);

// Whether `lhs OP rhs` compares like with like. Same types always do; a bare 0 matches
// anything; a bare number reads as a rate per second; a computed number (a ratio) matches a
// percentage. A bare number against a duration or percentage is an error ("write 800ms, not
// 800"), located at the number; other mismatches are located at the right operand.
std::optional<DslProblem> comparison_problem(const ValueExpr& lhs, const ValueExpr& rhs);

}  // namespace faultline::dsl
