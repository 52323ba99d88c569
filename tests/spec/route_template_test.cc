// Request lines, template placeholders and variable generators.
#include "spec/route_template.h"

#include <doctest/doctest.h>

using namespace faultline;

TEST_CASE("placeholders are {name} - JSON braces are not") {
  const auto ps = find_placeholders(R"({"a":{user_id},"b":"x-{seq}"} {} {1x} {a b} {_ok})");
  REQUIRE(ps.size() == 3);
  CHECK(ps[0].name == "user_id");
  CHECK(ps[0].offset == 5);
  CHECK(ps[0].length == 9);
  CHECK(ps[1].name == "seq");
  CHECK(ps[2].name == "_ok");
}

TEST_CASE("request lines") {
  TextProblem p;
  auto line = parse_request_line("GET /users/{id}?x=1", p);
  REQUIRE(line);
  CHECK(line->method == "GET");
  CHECK(line->path == "/users/{id}?x=1");
  CHECK_FALSE(parse_request_line("get /x", p));
  CHECK(p.message == "\"get\" is not an HTTP method");
  CHECK_FALSE(parse_request_line("GET users", p));
  CHECK(p.offset == 4);
  CHECK_FALSE(parse_request_line("GET", p));
}

TEST_CASE("generators parse with their parameters") {
  VarSpec v;
  TextProblem p;
  REQUIRE(parse_var_expression("uniform(-5, 10)", v, p));
  CHECK(v.kind == VarSpec::Kind::kUniform);
  CHECK(v.lo == -5);
  CHECK(v.hi == 10);
  REQUIRE(parse_var_expression("zipf(100,0.9)", v, p));
  CHECK(v.kind == VarSpec::Kind::kZipf);
  CHECK(v.n == 100);
  CHECK(v.s == 0.9);
  REQUIRE(parse_var_expression("choice([a, 'b c', \"d,e\"])", v, p));
  CHECK(v.choices == std::vector<std::string>{"a", "b c", "d,e"});
  REQUIRE(parse_var_expression("sequence()", v, p));
  CHECK(v.start == 1);
  CHECK(v.step == 1);
  REQUIRE(parse_var_expression("sequence(10)", v, p));
  CHECK(v.start == 10);
  REQUIRE(parse_var_expression("sequence(start=3, step=-1)", v, p));
  CHECK(v.start == 3);
  CHECK(v.step == -1);
  REQUIRE(parse_var_expression("sequence(step=2)", v, p));
  CHECK(v.start == 1);
  CHECK(v.step == 2);
  CHECK(is_numeric_var(VarSpec::Kind::kSequence));
  CHECK_FALSE(is_numeric_var(VarSpec::Kind::kChoice));
}

TEST_CASE("generator problems say where and what") {
  VarSpec v;
  TextProblem p;
  CHECK_FALSE(parse_var_expression("uniform(10, 1)", v, p));
  CHECK(p.message == "uniform(a, b) needs a <= b");
  CHECK(p.offset == 8);
  CHECK_FALSE(parse_var_expression("uniform(1, x)", v, p));
  CHECK(p.offset == 11);
  CHECK_FALSE(parse_var_expression("zipf(0, 1)", v, p));
  CHECK_FALSE(parse_var_expression("zipf(10, 0)", v, p));
  CHECK_FALSE(parse_var_expression("choice([])", v, p));
  CHECK_FALSE(parse_var_expression("choice(a, b)", v, p));
  CHECK_FALSE(parse_var_expression("sequence(1, 0)", v, p));
  CHECK_FALSE(parse_var_expression("sequence(1, 2, 3)", v, p));
  CHECK_FALSE(parse_var_expression("uniform(1, 2) extra", v, p));
  CHECK(p.message == "unexpected text after ')'");
  CHECK_FALSE(parse_var_expression("unifrom(1, 2)", v, p));
  CHECK(p.message == "unknown generator \"unifrom\"");
  CHECK(p.hint.rfind("did you mean uniform(...)?", 0) == 0);
}
