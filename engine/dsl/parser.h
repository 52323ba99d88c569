// parse_statement: DSL text -> Statement (ast.h), or the first syntax error with its place.
// Syntax only, plus the fixed vocabulary (metric names, selector keys and values, units);
// names that depend on the scenario (phases, routes, services) and type rules are checked
// by check.h. Pure and total: any input returns a result, nesting is bounded (kMaxNesting),
// time is linear in the text.
#pragma once

#include <optional>
#include <string_view>

#include "dsl/ast.h"
#include "dsl/problem.h"

namespace faultline::dsl {

using ParseError = DslProblem;

struct ParseResult {
  std::optional<Statement> statement;  // set on success
  ParseError error;                    // meaningful when statement is empty
  bool ok() const { return statement.has_value(); }
};

// Deepest nesting of parentheses the parser accepts.
inline constexpr int kMaxNesting = 32;

ParseResult parse_statement(std::string_view text, StatementKind kind);

}  // namespace faultline::dsl
