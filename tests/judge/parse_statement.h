// The judge tests' way to get a statement: parsed, or the test stops with the parse error.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "dsl/parser.h"

namespace faultline::testing {

inline dsl::Statement parse(const std::string& text,
                            dsl::StatementKind kind = dsl::StatementKind::kAssertion) {
  auto r = dsl::parse_statement(text, kind);
  INFO(text, ": ", r.error.message);
  REQUIRE(r.ok());
  return *r.statement;
}

}  // namespace faultline::testing
