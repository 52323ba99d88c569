// `${VAR}` substitution in spec values. Applied to every scalar value (never to keys) of scenario
// and environment files while they are read, before a value's type is decided, so
// `seed: ${SEED:-42}` is the number 42.
//
//   ${NAME}            the value of NAME; an error (at the `$`) when NAME is not set
//   ${NAME:-default}   the value of NAME, or `default` when NAME is unset or empty
//   $${                a literal `${`
//   $                  anything else: a literal `$`
//
// NAME is letters, digits and '_' (not starting with a digit). Values come from the lookup
// (the loader's: `--set NAME=value` first, then the process environment). Defaults are taken
// as written (no nested ${...}).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {

using VariableLookup = std::function<std::optional<std::string>(const std::string& name)>;

struct SubstitutionProblem {
  size_t offset = 0;  // byte offset of the problem in the input text
  size_t length = 1;
  std::string message;
  std::string hint;
};

struct SubstitutionResult {
  std::string text;
  bool changed = false;  // text differs from the input (a variable or an escape was replaced)
  std::vector<SubstitutionProblem> problems;
};

SubstitutionResult substitute_variables(std::string_view text, const VariableLookup& lookup);

}  // namespace faultline
