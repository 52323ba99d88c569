#include "dsl/parser.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "dsl/printer.h"
#include "dsl/vocabulary.h"

using namespace faultline::dsl;

namespace {

// Canonical text of a statement, or "error@OFFSET+LENGTH: message".
std::string canon(std::string_view text, StatementKind kind = StatementKind::kAssertion) {
  const ParseResult r = parse_statement(text, kind);
  if (!r.ok()) {
    return "error@" + std::to_string(r.error.offset) + "+" + std::to_string(r.error.length) + ": " +
           r.error.message;
  }
  return to_string(*r.statement);
}

ParseError error_of(std::string_view text, StatementKind kind = StatementKind::kAssertion) {
  const ParseResult r = parse_statement(text, kind);
  REQUIRE_FALSE(r.ok());
  return r.error;
}

Statement parsed(std::string_view text, StatementKind kind = StatementKind::kAssertion) {
  const ParseResult r = parse_statement(text, kind);
  INFO(text, " -> ", r.error.message);
  REQUIRE(r.ok());
  return *r.statement;
}

// The meaning of a statement, independent of the printer: its tree with every number as the
// exact double it holds (hex float), without spans. Equal meanings judge alike.
std::string exact(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

std::string meaning(const Window& w) {
  return "window(" + std::to_string(static_cast<int>(w.kind)) + "," + w.phase + "," +
         std::to_string(w.last.count()) + "us)";
}

std::string meaning(const ValueExpr& v) {
  switch (v.kind) {
    case ValueExpr::Kind::kLiteral:
      return "lit(" + std::to_string(static_cast<int>(v.literal.type)) + "," +
             exact(v.literal.value) + "," + v.literal.text + ")";
    case ValueExpr::Kind::kMetric: {
      const MetricRef& m = v.metric;
      std::string out = m.side == MetricRef::Side::kClient
                            ? "client(" + m.client.metric
                            : "server(" + m.server.function + "," + m.server.metric_name;
      for (const auto& [key, value] : m.client.selectors) out += "," + key + "=" + value;
      for (const auto& l : m.server.matchers) out += "," + l.name + l.op + l.value;
      if (m.window) out += "," + meaning(*m.window);
      return out + ")";
    }
    case ValueExpr::Kind::kArith: {
      std::string out = "arith(" + meaning(v.operands[0]);
      for (size_t i = 0; i < v.ops.size(); ++i) out += v.ops[i] + meaning(v.operands[i + 1]);
      return out + ")";
    }
  }
  return "?";
}

std::string meaning(const Condition& c) {
  std::string out = "cond(" + std::to_string(static_cast<int>(c.kind)) + "," +
                    std::to_string(static_cast<int>(c.op));
  for (const auto& v : c.values) out += "," + meaning(v);
  for (const auto& o : c.operands) out += "," + meaning(o);
  return out + ")";
}

std::string meaning(const Statement& s) {
  std::string out = std::to_string(static_cast<int>(s.kind)) + ":" + meaning(s.window);
  if (s.condition) out += meaning(*s.condition);
  if (s.recovery) out += "within(" + std::to_string(s.recovery->limit.count()) + "us)";
  if (s.gate) {
    out += "gate(" + meaning(s.gate->value) + "," +
           std::to_string(static_cast<int>(s.gate->direction)) + "," +
           std::to_string(static_cast<int>(s.gate->op)) + "," + exact(s.gate->threshold.value) +
           "," + s.gate->threshold.text + ")";
  }
  return out;
}

}  // namespace

TEST_CASE("DESIGN.md and brief examples parse to their canonical form") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"during(trigger): p95(route=orders) > 800ms", "during(trigger): p95(route=orders) > 800ms"},
      {"during(trigger): error_rate(status=5xx) > 2%",
       "during(trigger): error_rate(status=5xx) > 2%"},
      {"during(warmup): p95 < 300ms", "during(warmup): p95 < 300ms"},
      {"after(cooldown): p95 back to normal", "after(cooldown): p95 back to normal"},
      {"during(trigger): p95 > 3 * during(warmup).p95",
       "during(trigger): p95 > 3 * during(warmup).p95"},
      {"during(trigger):metric.p95(http_request_duration_seconds{route=\"/orders\"})>1s",
       "during(trigger): metric.p95(http_request_duration_seconds{route=\"/orders\"}) > 1s"},
      {"overall: metric.max(queue_depth) < 1000", "overall: metric.max(queue_depth) < 1000"},
      {"after(cooldown): metric.increase(jobs_dead_lettered_total) == 0",
       "after(cooldown): metric.increase(jobs_dead_lettered_total) == 0"},
      {"overall: metric.increase(dlq_total) <= 5", "overall: metric.increase(dlq_total) <= 5"},
      {"during(trigger, last 10s): count(status=2xx, route=users) >= 100",
       "during(trigger, last 10s): count(route=users, status=2xx) >= 100"},
      {"during(trigger): p999 != 0", "during(trigger): p999 != 0"},
      {"during(trigger): p975(route=orders) < p90", "during(trigger): p975(route=orders) < p90"},
      {"during(trigger): metric.p75(job_duration_seconds) < 1s",
       "during(trigger): metric.p75(job_duration_seconds) < 1s"},
      {"overall: rps >= 50/s", "overall: rps >= 50/s"},
      {"overall: rps >= 3000/m", "overall: rps >= 3000/m"},
      {"overall: mean <= 250us and max < 2s", "overall: mean <= 250us and max < 2s"},
      {"during(trigger): error_rate(error=timeout, method=GET) < 0.5%",
       "during(trigger): error_rate(method=GET, error=timeout) < 0.5%"},
      {"during(trigger): p50(status=503) > 1m30s", "during(trigger): p50(status=503) > 1m30s"},
      {"during(trigger): p95 > 1500ms", "during(trigger): p95 > 1.5s"},
      {"during(trigger): p95 > 0.8s", "during(trigger): p95 > 800ms"},
      {"during(trigger): p99 < 1.5 * overall.p99", "during(trigger): p99 < 1.5 * overall.p99"},
      {"during(trigger): p95 / during(warmup).p95 > 2",
       "during(trigger): p95 / during(warmup).p95 > 2"},
      {"during(trigger): metric.p90(lat_seconds{job=\"api\", route!=\"/health\"}) > 1s",
       "during(trigger): metric.p90(lat_seconds{job=\"api\", route!=\"/health\"}) > 1s"},
      {"overall: metric.rate(http_requests_total{code=~\"5..\", job!~\"db.*\"}) < 1/s",
       "overall: metric.rate(http_requests_total{code=~\"5..\", job!~\"db.*\"}) < 1/s"},
      {"overall: metric.avg(pool_in_use{}) < 10", "overall: metric.avg(pool_in_use) < 10"},
      {"overall: metric.last(x{b=\"2\", a=\"1\",}) >= 0",
       "overall: metric.last(x{a=\"1\", b=\"2\"}) >= 0"},
      {"overall: metric.min(free_ratio) > 10%", "overall: metric.min(free_ratio) > 10%"},
      {"during(\"phase one\"): p95(route=\"a.b\") < 1s",
       "during(\"phase one\"): p95(route=\"a.b\") < 1s"},
      {"during(cool-down): p95(route=orders-v2) back to normal",
       "during(cool-down): p95(route=orders-v2) back to normal"},
      {"  during ( trigger )  :  p95  >  800ms  ", "during(trigger): p95 > 800ms"},
      {"during(trigger): p95() > 1s", "during(trigger): p95 > 1s"},
      {"during(trigger): (p95 > 1s)", "during(trigger): p95 > 1s"},
      {"during(trigger): ((p95 > 1s))", "during(trigger): p95 > 1s"},
      {"during(trigger): (p95) > (1s)", "during(trigger): p95 > 1s"},
  };
  for (const auto& c : cases) {
    INFO(c.first);
    CHECK(canon(c.first) == c.second);
  }
}

TEST_CASE("a quantile is p and the digits after \"0.\" of its level") {
  const std::vector<std::pair<std::string, double>> levels{
      {"p50", 0.5},  {"p05", 0.05},   {"p75", 0.75},   {"p90", 0.9},      {"p95", 0.95},
      {"p99", 0.99}, {"p975", 0.975}, {"p999", 0.999}, {"p9999", 0.9999}, {"p01", 0.01}};
  for (const auto& [name, level] : levels) {
    INFO(name);
    REQUIRE(quantile_level(name).has_value());
    CHECK(*quantile_level(name) == doctest::Approx(level).epsilon(1e-12).scale(0));
    CHECK(client_metric_type(name) == ValueType::kDuration);
    CHECK(server_function_kind(name) == ServerFunctionKind::kQuantile);
  }
  for (const std::string name :
       {"p", "p5", "p00", "p100", "p500", "p99990", "p99999", "px5", "P95", "max"})
    CHECK_MESSAGE(!quantile_level(name), name);
}

TEST_CASE("and binds tighter than or, parentheses group, chains flatten") {
  CHECK(canon("overall: p95 > 1s or p99 > 2s and rps > 5") ==
        "overall: p95 > 1s or p99 > 2s and rps > 5");
  const Statement s = parsed("overall: p95 > 1s or p99 > 2s and rps > 5");
  REQUIRE(s.condition->kind == Condition::Kind::kOr);
  REQUIRE(s.condition->operands.size() == 2);
  CHECK(s.condition->operands[1].kind == Condition::Kind::kAnd);

  const Statement g = parsed("overall: (p95 > 1s or p99 > 2s) and rps > 5");
  REQUIRE(g.condition->kind == Condition::Kind::kAnd);
  CHECK(g.condition->operands[0].kind == Condition::Kind::kOr);
  CHECK(to_string(g) == "overall: (p95 > 1s or p99 > 2s) and rps > 5");

  const Statement flat = parsed("overall: p95 > 1s and (p99 > 2s and (rps > 5 and count > 1))");
  REQUIRE(flat.condition->kind == Condition::Kind::kAnd);
  CHECK(flat.condition->operands.size() == 4);
  CHECK(to_string(flat) == "overall: p95 > 1s and p99 > 2s and rps > 5 and count > 1");

  // Arithmetic is left-associative: (a * b) / c flattens, a / (b * c) keeps its parentheses.
  CHECK(canon("overall: p95 > (2 * p50) / 4") == "overall: p95 > 2 * p50 / 4");
  CHECK(canon("overall: p95 > 2 / (p50 * 4)") == "overall: p95 > 2 / (p50 * 4)");
  CHECK(canon("overall: (p95 * 2 > 1s)") == "overall: p95 * 2 > 1s");
}

TEST_CASE("numbers are normalised to seconds, fractions and per-second rates") {
  const auto lit = [](const std::string& v) {
    const Statement s = parsed("overall: count > " + v);
    return s.condition->values[1].literal;
  };
  CHECK(lit("800ms").type == ValueType::kDuration);
  CHECK(lit("800ms").value == doctest::Approx(0.8));
  CHECK(lit("250us").value == doctest::Approx(0.00025));
  CHECK(lit("2m").value == doctest::Approx(120));
  CHECK(lit("2%").type == ValueType::kFraction);
  CHECK(lit("2%").value == doctest::Approx(0.02));
  CHECK(lit("50/s").type == ValueType::kRate);
  CHECK(lit("3000/m").value == doctest::Approx(50));
  CHECK(lit("7").type == ValueType::kNumber);
  CHECK(lit("7").value == 7);
  CHECK(lit("0.07%").text == "0.07%");
}

TEST_CASE("windows") {
  const Statement last = parsed("during(trigger, last 10s): p95 > 1s");
  CHECK(last.window.kind == Window::Kind::kDuringLast);
  CHECK(last.window.phase == "trigger");
  CHECK(last.window.last == std::chrono::seconds(10));
  CHECK(last.window.phase_span.offset == 7);
  CHECK(last.window.last_span.offset == 21);
  CHECK(parsed("after(x): p95 > 1s").window.kind == Window::Kind::kAfter);
  CHECK(parsed("overall: p95 > 1s").window.kind == Window::Kind::kOverall);
  const Statement cross = parsed("after(cooldown): p95 < 2 * during(warmup, last 5s).p95");
  const ValueExpr& rhs = cross.condition->values[1];
  REQUIRE(rhs.kind == ValueExpr::Kind::kArith);
  REQUIRE(rhs.operands[1].metric.window.has_value());
  CHECK(rhs.operands[1].metric.window->kind == Window::Kind::kDuringLast);
  CHECK(rhs.operands[1].metric.window->last == std::chrono::seconds(5));
}

TEST_CASE("compare gates") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"during(trigger): p95 improves by >= 30%", "during(trigger): p95 improves by >= 30%"},
      {"during(trigger): error_rate(status=5xx) improves by >= 50%",
       "during(trigger): error_rate(status=5xx) improves by >= 50%"},
      {"during(warmup): p95 regresses by <= 10%", "during(warmup): p95 regresses by <= 10%"},
      {"overall: p99(route=orders) improves by >= 20%",
       "overall: p99(route=orders) improves by >= 20%"},
      {"overall: rps improves by > 5%", "overall: rps improves by > 5%"},
      {"overall: metric.p95(lat_seconds) regresses by < 2.5%",
       "overall: metric.p95(lat_seconds) regresses by < 2.5%"},
  };
  for (const auto& c : cases) {
    INFO(c.first);
    CHECK(canon(c.first, StatementKind::kCompareGate) == c.second);
  }
  const Statement g =
      parsed("during(trigger): p95 improves by >= 30%", StatementKind::kCompareGate);
  REQUIRE(g.gate.has_value());
  CHECK_FALSE(g.condition.has_value());
  CHECK(g.gate->direction == Gate::Direction::kImproves);
  CHECK(g.gate->op == CompareOp::kGe);
  CHECK(g.gate->threshold.value == doctest::Approx(0.30));
  // abort_if uses the assertion grammar.
  CHECK(canon("during(trigger): error_rate > 50%", StatementKind::kAbortIf) ==
        "during(trigger): error_rate > 50%");
}

TEST_CASE("syntax errors carry the exact place, message and hint") {
  struct Case {
    std::string text;
    size_t offset, length;
    std::string message;
    std::string hint_part;  // a part of the hint; "" for an error without one
    StatementKind kind = StatementKind::kAssertion;
  };
  const std::string huge(400, '9');  // beyond double's range
  const std::vector<Case> cases{
      {"during(trigger): p9 > 800ms", 17, 2, "'p9' is not a quantile", "p05 for 5%"},
      {"during(trigger): p100 > 800ms", 17, 4, "'p100' is not a quantile", "p975"},
      {"during(trigger): p500 > 800ms", 17, 4, "'p500' is not a quantile", "p50"},
      {"during(trigger): p00 > 800ms", 17, 3, "'p00' is not a quantile", "p05 for 5%"},
      {"during(trigger): pp95 > 800ms", 17, 4, "unknown metric 'pp95'", "did you mean 'p95'?"},
      {"during(trigger): eror_rate > 1%", 17, 9, "unknown metric 'eror_rate'",
       "did you mean 'error_rate'?"},
      {"during(trigger): avg > 1s", 17, 3, "'avg' is not a client metric", "metric.avg(<name>)"},
      {"during(trigger) p95 > 800ms", 16, 3, "expected ':' after during(trigger)",
       "during(trigger): <condition>"},
      {"during(trigger): p95 > 800sec", 26, 3, "unknown unit 'sec'", "units: us ms s m h"},
      {"during(trigger): p95 > 800mss", 26, 3, "unknown unit 'mss'", "did you mean 800ms?"},
      {"during(trigger): p95 > 0.0000001s", 23, 10, "invalid duration '0.0000001s'",
       "whole microseconds"},
      {"during(trigger: p95 > 1s", 14, 1, "expected ')', found ':'", "column 7"},
      {"during(trigger): (p95 > 1s", 17, 1, "unclosed '('", "add the matching ')'"},
      {"during(trigger): p95 > (2 * p50", 23, 1, "unclosed '('", "add the matching ')'"},
      {"during(trigger): p95 > 1s)", 25, 1, "unexpected ')'", "no matching '('"},
      {"", 0, 0, "empty statement", "during(trigger)"},
      {"   ", 0, 0, "empty statement", "write <window>: <condition>"},
      {"p95 > 800ms", 0, 3, "expected a window before 'p95'", "start with the window"},
      {"durin(trigger): p95 > 1s", 0, 5, "unknown window 'durin'", "did you mean 'during'?"},
      {"during(trigger): p95", 20, 0, "expected a comparison after 'p95', found the end",
       "back to normal"},
      {"during(trigger): p95 = 1s", 21, 1, "'=' is not a comparison", "=="},
      {"during(trigger): p95 > ", 23, 0, "expected a value, found the end",
       "a number such as 800ms or 2%"},
      {"during(trigger): p95 > 1s and", 29, 0, "expected a value, found the end",
       "a number such as 800ms or 2%"},
      {"during(trigger): 1s < p95 < 2s", 26, 1, "comparisons cannot be chained", "and"},
      {"during(trigger): p95 back to", 28, 0, "expected 'back to normal'",
       "e.g. after(cooldown): p95 back to normal"},
      {"during(trigger): p95(rout=orders) > 1s", 21, 4, "unknown selector 'rout'",
       "did you mean 'route'?"},
      {"during(trigger): p95(status=6xx) > 1s", 28, 3, "unknown status '6xx'", "5xx"},
      {"during(trigger): p95(status=1xx) > 1s", 28, 3, "unknown status '1xx'", "5xx"},
      {"during(trigger): p95(method=get) > 1s", 28, 3, "unknown method 'get'", "method=GET"},
      {"during(trigger): p95(error=timout) > 1s", 27, 6, "unknown error class 'timout'",
       "did you mean 'timeout'?"},
      {"during(trigger): p95(route=a, route=b) > 1s", 30, 5, "selector 'route' given twice",
       "keep one"},
      {"during(trigger): p95(route!=a) > 1s", 26, 2, "expected '=' after 'route', found '!='",
       "server metrics"},
      {"during(trigger): metric.pp95(x) > 1s", 24, 4, "unknown server function 'pp95'",
       "did you mean 'p95'?"},
      {"during(trigger): metric.p95(lat_bucket) > 1s", 28, 10,
       "write the histogram's name without '_bucket'", "metric.p95(lat)"},
      {"during(trigger): metric.p95(x{route=orders}) > 1s", 36, 6, "label values are quoted",
       "route=\"orders\""},
      {"during(trigger): metric.p95(x{route=\"a\") > 1s", 39, 1, "expected ',' or '}', found ')'",
       "separate matchers with ','"},
      {"during(trigger): metric.p95(x{route=\"a\"", 29, 1, "unclosed '{'", "add the matching '}'"},
      {"during(trigger): metric.p95(\"x\") > 1s", 28, 3,
       "expected a Prometheus metric name, found '\"x\"'", "not quoted"},
      {"during(trigger): metric.p95(x{route=\"a) > 1s", 36, 8, "unterminated quoted string",
       "add the closing '\"'"},
      {"during(trigger): p95(route=\"a\\", 29, 1, "unsupported escape in a quoted string",
       "only \\\\, \\\" and \\n are escapes"},
      {"during(trigger): p95(route=\"a\\d\")", 29, 2, "unsupported escape in a quoted string",
       "write \\\\ for a backslash"},
      {"during(trigger): p95 > 1s + 2s", 26, 1, "unexpected character '+'", "only * and /"},
      {"during(trigger): p95 ! 1s", 21, 1, "unexpected '!'", "write != (not equal) or !~"},
      {"during(trigger): p95 improves by >= 30%", 21, 8, "'improves by' belongs in compare gates",
       "compare:"},
      {"during(trigger): p95 > 1s", 21, 1, "expected 'improves by' or 'regresses by', found '>'",
       "a compare gate judges the change", StatementKind::kCompareGate},
      {"during(trigger): p95 improves by >= 30", 36, 2, "the change must be a percentage, not '30'",
       "30%", StatementKind::kCompareGate},
      {"during(trigger): p95 improves by == 30%", 33, 2,
       "expected >=, >, <= or < after 'by', found '=='",
       "e.g. improves by >= 30%, regresses by <= 10%", StatementKind::kCompareGate},
      {"during(trigger): p95 improves >= 30%", 30, 2, "expected 'by' after 'improves'",
       "e.g. improves by >= 30%", StatementKind::kCompareGate},
      {"during(trigger, 10s): p95 > 1s", 16, 3, "expected 'last' after ','",
       "write during(PHASE, last 10s)"},
      {"during(trigger, last 10): p95 > 1s", 21, 2, "'last' needs a duration, not '10'",
       "e.g. during(trigger, last 10s)"},
      {"during(trigger, last 0s): p95 > 1s", 21, 2, "'last' needs a duration longer than 0",
       "e.g. during(trigger, last 10s)"},
      {"after(trigger, last 1s): p95 > 1s", 13, 1, "expected ')', found ','",
       "to close the '(' at column 6"},
      {"during(): p95 > 1s", 7, 1, "expected a phase name, found ')'", "e.g. during(trigger)"},
      {"during(trigger): during(warmup) > 1s", 32, 1,
       "expected '.' and a metric after during(warmup)", "during(warmup).p95"},
      {"during(trigger): 2 * (p95 > 1s) > 1s", 21, 1, "a comparison cannot be used as a value",
       "parenthesise values"},
      {"during(trigger): p95 > " + huge, 23, huge.size(), "number '", ""},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const ParseError e = error_of(c.text, c.kind);
    CHECK(e.offset == c.offset);
    CHECK(e.length == c.length);
    CHECK(e.message.find(c.message) == 0);
    // An empty part would be found in any hint: it means the error has no hint at all.
    if (c.hint_part.empty()) {
      CHECK(e.hint == "");
    } else {
      CHECK(e.hint.find(c.hint_part) != std::string::npos);
    }
  }
}

TEST_CASE("nesting is bounded") {
  std::string deep = "overall: ";
  for (int i = 0; i < 40; ++i) deep += "(";
  deep += "p95 > 1s";
  for (int i = 0; i < 40; ++i) deep += ")";
  const ParseError e = error_of(deep);
  CHECK(e.message == "parentheses nested too deeply");
  CHECK(e.offset == 9 + kMaxNesting);

  std::string ok = "overall: ";
  for (int i = 0; i < kMaxNesting; ++i) ok += "(";
  ok += "p95 > 1s";
  for (int i = 0; i < kMaxNesting; ++i) ok += ")";
  CHECK(canon(ok) == "overall: p95 > 1s");
}

TEST_CASE("parse -> print -> parse keeps every value and is a fixed point") {
  // A printer that loses precision still reaches a fixed point after one round (its output
  // reprints as itself), so the re-parsed values are compared with the first parse's too.
  const std::vector<std::string> texts{
      "during(trigger): p95(status=5xx, route=orders) > 800ms or (p99 > 1.5s and rps < 10)",
      "overall: (p95 > 1s or p99 > 2s) and (rps > 5 or count == 0)",
      "after(cooldown): p95 back to normal and error_rate(status=5xx) back to normal",
      "during(x, last 1m30s): p95 / (during(y).p95 * 2) < 1.25",
      "during(\"a b\"): p95(route=\"x\\\"y\") > 0.001ms",
      "overall: metric.p99(lat_seconds{route=~\"/a|/b\", job=\"api\"}) < 100ms",
      "overall: count(route=2fa) > 0 and count(route=\"2_fa\") > 0 and p95(route=\"5xx-a\") > 0",
      "overall: p95 > 900000000ms",
      "overall: error_rate < 0.000000000001%",
      "overall: count > 123456789012345678901234567890",
      // 17 significant digits: beyond float (24-bit mantissa), within double.
      "overall: count > 16777217",
      "overall: count > 12345678901234567",
      "overall: count > 0.12345678901234567",
      "overall: error_rate < 12.345678901234567%",
      "overall: rps > 16777217.5/s",
      "overall: metric.max(q) < 9007199254740993",
      "overall: p95 < 1.2345678901234567 * p50",
      "during(trigger): p95 improves by >= 33.333333333333336%",
      "after(trigger): p95 < 300ms within 20s",
      "after(trigger): (p95 < 300ms or error_rate < 1%) and metric.last(q) < 10 within 1m30.5s",
  };
  for (const auto& text : texts) {
    INFO(text);
    const StatementKind kind = text.find("improves by") != std::string::npos
                                   ? StatementKind::kCompareGate
                                   : StatementKind::kAssertion;
    const Statement first = parsed(text, kind);
    const std::string once = to_string(first);
    INFO(once);
    const Statement again = parsed(once, kind);
    CHECK(meaning(again) == meaning(first));
    CHECK(to_string(again) == once);
  }
}

TEST_CASE("numbers keep every digit a double holds") {
  const auto value = [](const std::string& rhs) {
    return parsed("overall: count > " + rhs).condition->values[1].literal.value;
  };
  CHECK(value("16777217") == 16777217.0);  // 2^24 + 1: the first integer a float rounds
  CHECK(value("12345678901234567") == 12345678901234567.0);
  CHECK(value("0.12345678901234567") == 0.12345678901234567);
  CHECK(value("1.0000000000000002") == 1.0000000000000002);  // 1 + 2^-52
  CHECK(value("1.0000000000000002") != 1.0);
  // The canonical text reads back as the same double.
  for (const std::string rhs : {"16777217", "0.1", "0.30000000000000004", "123456.78901234567"}) {
    INFO(rhs);
    const Statement s = parsed("overall: count > " + rhs);
    CHECK(value(s.condition->values[1].literal.text) == value(rhs));
  }
  CHECK(canon("overall: count > 16777217") == "overall: count > 16777217");
}

TEST_CASE("spans point into the original text") {
  const std::string text = "during(trigger): p95(route=orders) > 3 * during(warmup).p95";
  const Statement s = parsed(text);
  const ValueExpr& lhs = s.condition->values[0];
  CHECK(text.substr(lhs.span.offset, lhs.span.length) == "p95(route=orders)");
  CHECK(text.substr(lhs.metric.value_spans[0].offset, lhs.metric.value_spans[0].length) ==
        "orders");
  const ValueExpr& rhs = s.condition->values[1];
  CHECK(text.substr(rhs.span.offset, rhs.span.length) == "3 * during(warmup).p95");
  const Window& w = *rhs.operands[1].metric.window;
  CHECK(text.substr(w.phase_span.offset, w.phase_span.length) == "warmup");
  CHECK(text.substr(s.condition->op_span.offset, s.condition->op_span.length) == ">");
}

TEST_CASE("within states a recovery time after the condition") {
  const Statement s = parsed("after(trigger):  metric.last(queue_depth) < 10   within 30000ms");
  REQUIRE(s.recovery);
  CHECK(s.recovery->limit == std::chrono::seconds(30));
  CHECK(to_string(s) == "after(trigger): metric.last(queue_depth) < 10 within 30s");
  CHECK(canon("after(trigger): p95 < 300ms within 20s") ==
        "after(trigger): p95 < 300ms within 20s");
  CHECK(canon("after(trigger): error_rate < 1% within 1500ms") ==
        "after(trigger): error_rate < 1% within 1.5s");
  // It applies to the whole condition, and/or included.
  const Statement both = parsed("after(trigger): p95 < 300ms and error_rate < 1% within 10s");
  REQUIRE(both.condition);
  CHECK(both.condition->kind == Condition::Kind::kAnd);
  REQUIRE(both.recovery);
  CHECK(both.recovery->limit == std::chrono::seconds(10));
  CHECK_FALSE(parsed("after(trigger): p95 < 300ms").recovery);
  // Spans: the whole `within D` and the duration.
  const std::string text = "after(trigger): p95 < 300ms within 20s";
  const Statement spanned = parsed(text);
  CHECK(text.substr(spanned.recovery->span.offset, spanned.recovery->span.length) == "within 20s");
  CHECK(text.substr(spanned.recovery->limit_span.offset, spanned.recovery->limit_span.length) ==
        "20s");
}

TEST_CASE("within errors carry the place and a hint") {
  struct Case {
    std::string text;
    StatementKind kind;
    std::string at;  // the text underlined
    std::string message;
    std::string hint_part;
  };
  const std::vector<Case> cases{
      {"after(trigger): p95 < 300ms within", StatementKind::kAssertion, "",
       "expected a duration after 'within', found the end", "within 20s"},
      {"after(trigger): p95 < 300ms within soon", StatementKind::kAssertion, "soon",
       "expected a duration after 'within', found 'soon'", "within 20s"},
      {"after(trigger): p95 < 300ms within 30", StatementKind::kAssertion, "30",
       "'within' needs a duration, not '30'", "write 30s or 30ms"},
      {"after(trigger): p95 < 300ms within 2%", StatementKind::kAssertion, "2%",
       "'within' needs a duration, not '2%'", "within 20s"},
      {"after(trigger): p95 < 300ms within 0s", StatementKind::kAssertion, "0s",
       "'within' needs a duration longer than 0", "within 20s"},
      {"after(trigger): p95 < 300ms within 30sec", StatementKind::kAssertion, "sec",
       "unknown unit 'sec'", "units: us ms s"},
      {"after(trigger): (p95 < 300ms within 20s) and rps > 5", StatementKind::kAssertion, "within",
       "'within' applies to the whole condition, not inside '('", "at the end"},
      {"after(trigger): p95 < 300ms within 20s within 30s", StatementKind::kAssertion, "within",
       "'within' given twice", "keep one"},
      {"after(trigger): p95 improves by >= 30% within 20s", StatementKind::kCompareGate, "within",
       "'within' does not apply to compare gates", "assert:"},
      {"after(trigger): p95 within 20s", StatementKind::kAssertion, "within",
       "expected a comparison after 'p95', found 'within'", ">"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const ParseError e = error_of(c.text, c.kind);
    CHECK(c.text.substr(e.offset, e.length) == c.at);
    CHECK(e.message == c.message);
    CHECK(e.hint.find(c.hint_part) != std::string::npos);
  }
  CHECK(is_keyword("within"));
}

TEST_CASE("a bare number compared with a client latency is milliseconds") {
  // The project's own first example: `during(trigger): p95 > 800`.
  CHECK(canon("during(trigger): p95 > 800") == "during(trigger): p95 > 800ms");
  CHECK(canon("during(trigger): 1500 >= p99(route=orders)") ==
        "during(trigger): 1.5s >= p99(route=orders)");
  CHECK(canon("during(trigger): 3 * during(warmup).p95 < 2000") ==
        "during(trigger): 3 * during(warmup).p95 < 2s");
  const Statement s = parsed("during(trigger): p95 > 0.5");
  const Literal& lit = s.condition->values[1].literal;
  CHECK(lit.type == ValueType::kDuration);
  CHECK(lit.value == doctest::Approx(0.0005).epsilon(1e-12).scale(0));
  CHECK(lit.bare_milliseconds);
  // Same meaning as writing the unit, so it judges alike.
  CHECK(meaning(parsed("during(trigger): p95 > 800")) ==
        meaning(parsed("during(trigger): p95 > 800ms")));
  // Not milliseconds: zero, rates, percentages, server metrics (their names carry the unit).
  CHECK_FALSE(parsed("during(trigger): p95 > 0").condition->values[1].literal.bare_milliseconds);
  CHECK(parsed("during(trigger): rps > 800").condition->values[1].literal.type ==
        ValueType::kNumber);
  CHECK(parsed("overall: metric.max(lat_seconds) > 8").condition->values[1].literal.type ==
        ValueType::kNumber);
  CHECK_FALSE(
      parsed("during(trigger): p95 > 800ms").condition->values[1].literal.bare_milliseconds);
}
