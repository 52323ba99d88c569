// check_statement: the one call the spec loader makes to validate a DSL statement (assertion,
// abort_if condition or compare gate). It parses the text and checks units, types and the
// names it mentions (phases, routes, services) against the scenario, with did-you-mean hints.
// Pure: no I/O, no clock. The grammar is in docs/dsl-reference.md.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/units.h"
#include "dsl/ast.h"
#include "dsl/problem.h"

namespace faultline::dsl {

// The names a statement may refer to. An empty vector means "do not check that kind of name".
struct DslContext {
  std::vector<std::string> phases;    // phase names in plan order
  std::vector<std::string> routes;    // route names (selector route=...)
  std::vector<std::string> services;  // service names (pseudo-label job="...")
  // Optional phase lengths by name. When a phase is listed here, `during(P, last D)` with D
  // longer than the phase is an error; otherwise the evaluator clamps D to the phase.
  std::map<std::string, Duration, std::less<>> phase_durations;
  // Names of the verify hooks (verify.<hook>(...)); nullopt: do not check them.
  std::optional<std::vector<std::string>> verify_hooks;
};

// Parses and checks one statement. Empty result = valid. A syntax error yields exactly one
// problem (parsing stops there); semantic problems (names, units, types) are all reported,
// in text order.
std::vector<DslProblem> check_statement(std::string_view text, const DslContext& ctx,
                                        StatementKind kind);

// The semantic half of check_statement, for a statement already parsed (parser.h).
std::vector<DslProblem> check_parsed(const Statement& statement, const DslContext& ctx);

}  // namespace faultline::dsl
