// history.* and verify.<hook>("/pointer") in the DSL: parsing, canonical printing, and the
// checker's rules (overall: assertions only, known hooks).
#include <doctest/doctest.h>

#include "dsl/check.h"
#include "dsl/parser.h"
#include "dsl/printer.h"

using namespace faultline::dsl;

namespace {

DslContext context() {
  DslContext ctx;
  ctx.phases = {"warmup", "trigger"};
  ctx.routes = {"orders"};
  ctx.verify_hooks = std::vector<std::string>{"effects"};
  return ctx;
}

}  // namespace

TEST_CASE("history and verify reads parse and print back to the same text") {
  for (const char* text : {"overall: history.lost == 0 and history.duplicated == 0",
                           "overall: verify.effects(\"/count\") == count(route=orders, status=2xx)",
                           "overall: history.unexpected <= 0.01 * history.acknowledged"}) {
    const auto parsed = parse_statement(text, StatementKind::kAssertion);
    INFO(text);
    REQUIRE(parsed.ok());
    CHECK(to_string(*parsed.statement) == text);
    CHECK(check_statement(text, context(), StatementKind::kAssertion).empty());
  }
  const auto p =
      parse_statement(R"(overall: verify.effects("/a~1b") > 0)", StatementKind::kAssertion);
  REQUIRE(p.ok());
  const MetricRef& m = p.statement->condition->values[0].metric;
  CHECK(m.side == MetricRef::Side::kRunFact);
  CHECK(m.fact.source == "verify");
  CHECK(m.fact.name == "effects");
  CHECK(m.fact.pointer == "/a~1b");
}

TEST_CASE("an unknown history figure or a pointer without '/' is a parse error with a hint") {
  const auto a = parse_statement("overall: history.lots == 0", StatementKind::kAssertion);
  REQUIRE_FALSE(a.ok());
  CHECK(a.error.message == "unknown history figure 'lots'");
  CHECK(a.error.hint.find("lost") != std::string::npos);
  CHECK(a.error.offset == 17);
  const auto b = parse_statement("overall: verify.effects(count) == 0", StatementKind::kAssertion);
  REQUIRE_FALSE(b.ok());
  CHECK(b.error.message.find("expected a quoted JSON pointer") == 0);
  const auto c =
      parse_statement(R"(overall: verify.effects("count") == 0)", StatementKind::kAssertion);
  REQUIRE_FALSE(c.ok());
}

TEST_CASE("run facts belong to overall: assertions, never to a window, abort_if or a gate") {
  auto one = [](const char* text, StatementKind kind) {
    const auto problems = check_statement(text, context(), kind);
    INFO(text);
    REQUIRE(problems.size() == 1);
    return problems.front();
  };
  CHECK(one("during(trigger): history.lost == 0", StatementKind::kAssertion).message ==
        "history.lost is a figure of the whole run, not of during(trigger)");
  CHECK(one("overall: during(warmup).history.lost == 0", StatementKind::kAssertion).message ==
        "history.lost is a figure of the whole run, not of a window");
  CHECK(one("overall: history.lost > 0", StatementKind::kAbortIf).message ==
        "history.lost is known only after the run");
  CHECK(one("overall: history.lost improves by >= 10%", StatementKind::kCompareGate).message ==
        "history.lost cannot be compared between runs");
  const DslProblem unknown = one(R"(overall: verify.efects("/n") > 0)", StatementKind::kAssertion);
  CHECK(unknown.message == "unknown verify hook 'efects'");
  CHECK(unknown.offset == 16);
}
