// The checker validates =~ and !~ regexes with RE2, the engine the matcher uses: what RE2
// refuses is reported in its words at the place it names, and what it accepts (large,
// deeply nested or RE2-only patterns) is not refused by limits of our own.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "dsl/check.h"

using namespace faultline::dsl;

namespace {

DslContext context() {
  DslContext ctx;
  ctx.phases = {"warmup", "trigger"};
  ctx.services = {"api"};
  return ctx;
}

// A statement whose one matcher is `route=~"<quoted>"`; `quoted` is DSL source text, so a
// regex backslash is written "\\\\" here.
std::string statement(const std::string& quoted) {
  return "overall: metric.max(q{route=~\"" + quoted + "\"}) < 5";
}

std::vector<DslProblem> check(const std::string& text) {
  return check_statement(text, context(), StatementKind::kAssertion);
}

DslProblem only_problem(const std::string& text) {
  const auto problems = check(text);
  INFO(text);
  REQUIRE(problems.size() == 1);
  return problems.front();
}

// The source text a problem underlines.
std::string underlined(const std::string& text, const DslProblem& p) {
  return text.substr(p.offset, p.length);
}

}  // namespace

TEST_CASE("an RE2 error is reported with its reason at its column") {
  std::string text = statement("a{2,1001}");
  DslProblem p = only_problem(text);
  CHECK(p.message == "invalid regex: invalid repetition size: {2,1001}");
  CHECK(p.offset == text.find("{2,1001}"));
  CHECK(underlined(text, p) == "{2,1001}");
  CHECK(p.hint.find("RE2 syntax") != std::string::npos);

  text = statement("x**");
  p = only_problem(text);
  CHECK(p.message == "invalid regex: bad repetition operator: **");
  CHECK(underlined(text, p) == "**");

  text = statement("[z-a]");
  p = only_problem(text);
  CHECK(p.message == "invalid regex: invalid character class range: z-a");
  CHECK(underlined(text, p) == "z-a");
}

TEST_CASE("regex problems are placed in the source, past DSL escapes") {
  // Source `\\\\1(b)\\1` is the regex `\\1(b)\1`: an escaped backslash and '1', then a
  // backreference, which RE2 refuses. The column is that of the second, not of the first "\1".
  const std::string text = statement("\\\\\\\\1(b)\\\\1");
  const DslProblem p = only_problem(text);
  CHECK(p.message == "invalid regex: invalid escape sequence: \\1");
  CHECK(p.offset == text.rfind("\\\\1"));
  CHECK(underlined(text, p) == "\\\\1");

  // An escaped quote before the error shifts the column by its two source bytes.
  const std::string quote = statement("\\\"x**");
  CHECK(underlined(quote, only_problem(quote)) == "**");
}

TEST_CASE("an unbalanced parenthesis is pointed at, not the whole value") {
  std::string text = statement("(a|(b)");
  DslProblem p = only_problem(text);
  CHECK(p.message == "invalid regex: missing )");
  CHECK(p.offset == text.find("(a|"));
  CHECK(p.length == 1);

  text = statement("[(]a)");  // the '(' in the class is literal: the ')' closes nothing
  p = only_problem(text);
  CHECK(p.message == "invalid regex: unexpected )");
  CHECK(p.offset == text.find("a)") + 1);

  text = statement("trailing\\\\");
  p = only_problem(text);
  CHECK(p.message == "invalid regex: trailing \\");
  CHECK(underlined(text, p) == "\\\\");
}

TEST_CASE("a long invalid regex gives a short message") {
  const std::string text = statement("[" + std::string(30'000, 'a'));
  const DslProblem p = only_problem(text);
  CHECK(p.message.rfind("invalid regex: missing ]: [aaa", 0) == 0);
  CHECK(p.message.size() < 100);
  CHECK(p.offset == text.find('[', text.find("=~")));
}

TEST_CASE("regexes RE2 accepts are not refused by limits of our own") {
  // 40 levels of nesting, counts up to RE2's 1000, and a 30k-character alternation of 3000 ids
  // (the size of a large choice([...])) were refused or crashed the ECMAScript engine.
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "(";
  deep += "a";
  for (int i = 0; i < 40; ++i) deep += ")";
  CHECK(check(statement(deep)).empty());
  CHECK(check(statement("a{2,1000}")).empty());
  std::string ids;
  for (int i = 0; i < 3000; ++i) ids += (i ? "|" : "") + std::string("user-") + std::to_string(i);
  REQUIRE(ids.size() > 25'000);
  CHECK(check(statement(ids)).empty());
  // RE2 syntax that ECMAScript lacks.
  CHECK(check(statement("(?i)get")).empty());
  CHECK(check(statement("\\\\pL+")).empty());
  CHECK(check("overall: metric.max(q{route!~\"(?s:.*)\"}) < 5").empty());
}

TEST_CASE("a pattern beyond RE2's memory budget is an error, not a crash") {
  std::string big;
  for (int i = 0; i < 200; ++i) big += "\\\\pL{1000}";
  const DslProblem p = only_problem(statement(big));
  CHECK(p.message == "invalid regex: pattern too large - compile failed");
}
