#include "dsl/check.h"

namespace faultline::dsl {

// Placeholder until the parser lands: accepts everything.
std::vector<DslProblem> check_statement(std::string_view, const DslContext&, StatementKind) {
  return {};
}

}  // namespace faultline::dsl
