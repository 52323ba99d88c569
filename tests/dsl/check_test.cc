#include "dsl/check.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace faultline::dsl;
using namespace std::chrono_literals;

namespace {

DslContext scenario_context() {
  DslContext ctx;
  ctx.phases = {"warmup", "trigger", "cooldown"};
  ctx.routes = {"orders", "users"};
  ctx.services = {"api", "payment", "worker"};
  ctx.phase_durations = {{"warmup", 10s}, {"trigger", 25s}, {"cooldown", 20s}};
  return ctx;
}

std::vector<DslProblem> check(std::string_view text,
                              StatementKind kind = StatementKind::kAssertion) {
  return check_statement(text, scenario_context(), kind);
}

// The one problem of `text`; fails the test when there is not exactly one.
DslProblem only_problem(std::string_view text, StatementKind kind = StatementKind::kAssertion) {
  const auto problems = check(text, kind);
  INFO(text);
  REQUIRE(problems.size() == 1);
  return problems.front();
}

}  // namespace

TEST_CASE("valid statements have no problems") {
  const std::vector<std::string> valid{
      "during(trigger): p95(route=orders) > 800ms",
      "during(trigger): error_rate(status=5xx) > 2%",
      "during(warmup): p95 < 300ms",
      "after(cooldown): p95 back to normal",
      "during(trigger): p95 > 3 * during(warmup).p95",
      "during(trigger): metric.p95(http_request_duration_seconds{route=\"/orders\"}) > 1s",
      "overall: metric.max(queue_depth) < 1000",
      "overall: metric.increase(jobs_dead_lettered_total) == 0",
      "during(trigger, last 25s): count(route=users, status=2xx) > 0",
      "overall: rps > 50 and rps < 100/s",
      "overall: p95 > 0",
      "overall: error_rate(status=5xx) / error_rate < 50%",
      "overall: p95 / during(warmup).p95 < 2",
      "overall: metric.max(lag_seconds) < 5s",
      "overall: metric.min(cache_hit_ratio) > 90%",
      "overall: metric.rate(http_requests_total{job=\"api\", code=~\"5..\"}) < 1/s",
      "overall: metric.p99(response_size_bytes) < 4096",
      "overall: error_rate * rps < 2/s",
      "overall: count / 60s > 1/s",
      "after(trigger): p95(route=orders) * 2 back to normal",
  };
  for (const auto& text : valid) {
    INFO(text);
    CHECK(check(text).empty());
  }
  CHECK(check("during(trigger): p95 improves by >= 30%", StatementKind::kCompareGate).empty());
  CHECK(check("during(trigger): error_rate > 50%", StatementKind::kAbortIf).empty());
}

TEST_CASE("unknown names get did-you-mean hints, empty lists disable the check") {
  DslProblem p = only_problem("during(trigge): p95 > 1s");
  CHECK(p.offset == 7);
  CHECK(p.length == 6);
  CHECK(p.message == "unknown phase 'trigge'");
  CHECK(p.hint == "did you mean 'trigger'? phases: warmup, trigger, cooldown");

  p = only_problem("during(trigger): p95 > 2 * during(wramup).p95");
  CHECK(p.offset == 34);
  CHECK(p.message == "unknown phase 'wramup'");
  CHECK(p.hint.find("did you mean 'warmup'?") == 0);

  p = only_problem("during(trigger): p95(route=order) > 1s");
  CHECK(p.offset == 27);
  CHECK(p.length == 5);
  CHECK(p.message == "unknown route 'order'");
  CHECK(p.hint.find("did you mean 'orders'?") == 0);

  p = only_problem("overall: metric.max(queue_depth{job=\"wrker\"}) < 5");
  CHECK(p.offset == 36);
  CHECK(p.message == "unknown service 'wrker'");
  CHECK(p.hint.find("did you mean 'worker'?") == 0);

  p = only_problem("overall: p95(route=zzzzzz) > 1s");
  CHECK(p.hint == "routes: orders, users");

  // job=~ is a regex: no name check.
  CHECK(check("overall: metric.max(q{job=~\"wrk.*\"}) < 5").empty());
  CHECK(check_statement("during(anything): p95(route=whatever) > 1s", DslContext{},
                        StatementKind::kAssertion)
            .empty());
}

TEST_CASE("type mismatches are located at the offending operand") {
  DslProblem p = only_problem("during(trigger): p95 > 2%");
  CHECK(p.offset == 23);
  CHECK(p.length == 2);
  CHECK(p.message == "cannot compare p95 (a duration) with 2% (a percentage)");
  CHECK(p.hint == "write a duration such as 800ms");

  p = only_problem("during(trigger): 2% < p95");
  CHECK(p.offset == 17);
  CHECK(p.message == "cannot compare 2% (a percentage) with p95 (a duration)");

  // A bare number against a client latency is milliseconds (a note, below); against a
  // server latency (named _seconds) it stays an error.
  p = only_problem("overall: metric.max(lat_seconds) > 800");
  CHECK(p.offset == 35);
  CHECK(p.length == 3);
  CHECK(p.message == "'800' has no unit but metric.max(lat_seconds) (a duration) has one");
  CHECK(p.hint == "write 800ms or 800s, not 800");

  p = only_problem("during(trigger): error_rate(status=5xx) > 0.02");
  CHECK(p.offset == 42);
  CHECK(p.message == "'0.02' has no unit but error_rate(status=5xx) (a percentage) has one");
  CHECK(p.hint.find("0.02%") != std::string::npos);

  p = only_problem("during(trigger): rps > 5ms");
  CHECK(p.message == "cannot compare rps (a rate) with 5ms (a duration)");

  p = only_problem("during(trigger): p95 > error_rate");
  CHECK(p.offset == 23);
  CHECK(p.message == "cannot compare p95 (a duration) with error_rate (a percentage)");

  p = only_problem("during(trigger): p95 * p50 > 1s");
  CHECK(p.offset == 23);
  CHECK(p.message == "cannot multiply a duration by p50 (a duration)");

  p = only_problem("during(trigger): 1 / p95 > 1s");
  CHECK(p.message == "cannot compare 1 / p95 (a rate) with 1s (a duration)");

  p = only_problem("overall: metric.p95(lat_seconds) > 100");
  CHECK(p.message == "'100' has no unit but metric.p95(lat_seconds) (a duration) has one");

  p = only_problem("overall: metric.max(queue_depth) < 5s");
  CHECK(p.message == "cannot compare metric.max(queue_depth) (a number) with 5s (a duration)");
}

TEST_CASE("statements must read a metric where it matters") {
  DslProblem p = only_problem("during(trigger): 1s < 2s");
  CHECK(p.offset == 17);
  CHECK(p.length == 7);
  CHECK(p.message == "this comparison reads no metric");

  p = only_problem("after(cooldown): during(warmup).p95 back to normal");
  CHECK(p.offset == 17);
  CHECK(p.message == "'back to normal' needs a metric of the statement's window");

  p = only_problem("after(cooldown): 5ms back to normal");
  CHECK(p.message == "'back to normal' needs a metric of the statement's window");

  p = only_problem("during(trigger): p95 * 2 improves by >= 30%", StatementKind::kCompareGate);
  CHECK(p.offset == 17);
  CHECK(p.message == "a compare gate judges one metric");

  p = only_problem("during(trigger): during(warmup).p95 improves by >= 30%",
                   StatementKind::kCompareGate);
  CHECK(p.offset == 17);
  CHECK(p.length == 14);
  CHECK(p.hint == "drop 'during(warmup).'");
}

TEST_CASE("last D longer than its phase is an error when the length is known") {
  DslProblem p = only_problem("during(trigger, last 40s): p95 > 1s");
  CHECK(p.offset == 21);
  CHECK(p.length == 3);
  CHECK(p.message == "last 40s is longer than phase 'trigger' (25s)");
  CHECK(p.hint == "use at most 25s, or during(trigger) for the whole phase");
  CHECK(check("during(trigger, last 25s): p95 > 1s").empty());
  DslContext no_lengths = scenario_context();
  no_lengths.phase_durations.clear();
  CHECK(
      check_statement("during(trigger, last 40s): p95 > 1s", no_lengths, StatementKind::kAssertion)
          .empty());
}

TEST_CASE("regex matchers are validated") {
  // RE2's reasons and columns, and what it accepts: check_regex_test.cc.
  DslProblem p = only_problem("overall: metric.max(q{route=~\"(a\"}) < 5");
  CHECK(p.offset == 30);
  CHECK(p.length == 1);
  CHECK(p.message.find("invalid regex") == 0);
  CHECK(check("overall: metric.max(q{route=~\"a{2,1000}[{(]9999\"}) < 5").empty());
}

TEST_CASE("all semantic problems are reported in text order, syntax errors stop at the first") {
  const auto problems =
      check("during(trigge): p95(route=order) > 2% and metric.max(q{job=\"ap\"}) < 5s");
  REQUIRE(problems.size() == 5);
  CHECK(problems[0].message == "unknown phase 'trigge'");
  CHECK(problems[1].message == "unknown route 'order'");
  CHECK(problems[2].message.find("cannot compare p95(route=order)") == 0);
  CHECK(problems[3].message == "unknown service 'ap'");
  CHECK(problems[4].message.find("cannot compare metric.max") == 0);
  const auto syntax = check("during(trigge): p9 > 1s and p95 > 2%");
  REQUIRE(syntax.size() == 1);
  CHECK(syntax[0].message == "'p9' is not a quantile");
}

TEST_CASE("within is checked: after(P) with a phase to recover in, assertions only") {
  CHECK(check("after(trigger): p95 < 300ms within 20s").empty());
  CHECK(check("after(trigger): metric.last(queue_depth) < 10 within 1s").empty());
  CHECK(check("after(warmup): p95 < 1.2 * during(warmup).p95 and error_rate < 1% within 25s")
            .empty());
  CHECK(check("after(trigger): p95 back to normal within 20s").empty());

  struct Case {
    std::string text;
    StatementKind kind;
    std::string at;
    std::string message;
    std::string hint;
  };
  const std::vector<Case> cases{
      {"during(cooldown): p95 < 300ms within 20s", StatementKind::kAssertion, "during(cooldown)",
       "'within' needs an after(PHASE) window, not during(cooldown)",
       "write after(trigger): ... within 20s: the clock starts when trigger ends, and cooldown "
       "is judged"},
      {"during(cooldown, last 5s): p95 < 300ms within 2s", StatementKind::kAssertion,
       "during(cooldown, last 5s)",
       "'within' needs an after(PHASE) window, not during(cooldown, last 5s)",
       "write after(trigger): ... within 2s: the clock starts when trigger ends, and cooldown "
       "is judged"},
      {"overall: p95 < 300ms within 20s", StatementKind::kAssertion, "overall",
       "'within' needs an after(PHASE) window, not overall",
       "the recovery clock starts when a phase ends (its faults are lifted): write "
       "after(PHASE): ... within 20s, which judges the phase that follows PHASE"},
      {"after(trigger): p95 < 300ms within 20s", StatementKind::kAbortIf, "within 20s",
       "'within' cannot be used in abort_if",
       "abort_if is judged while the run goes; state recovery times under assert:, e.g. "
       "after(trigger): p95 < 300ms within 20s"},
      {"after(cooldown): p95 < 300ms within 20s", StatementKind::kAssertion, "cooldown",
       "no phase follows 'cooldown' to recover in",
       "after(P): ... within D judges the phase after P; add a phase after cooldown or name an "
       "earlier phase"},
      {"after(trigger): p95 < 300ms within 30s", StatementKind::kAssertion, "30s",
       "within 30s is longer than phase 'cooldown' (20s), the recovery window after trigger",
       "use at most 20s, or lengthen cooldown so the system is seen to stay recovered"},
      {"after(trigger): during(warmup).p95 < 1s within 20s", StatementKind::kAssertion,
       "within 20s", "'within' needs a metric of the statement's window",
       "recovery follows that metric over time, e.g. after(trigger): p95 < 300ms within 20s"},
  };
  for (const auto& c : cases) {
    const DslProblem p = only_problem(c.text, c.kind);
    CHECK(c.text.substr(p.offset, p.length) == c.at);
    CHECK(p.message == c.message);
    CHECK(p.hint == c.hint);
  }
  // The first phase has no phase before it to suggest.
  const DslProblem first = only_problem("during(warmup): p95 < 300ms within 5s");
  CHECK(first.hint.find("write after(PHASE)") != std::string::npos);
  // Without phase lengths the limit is not checked against the phase.
  DslContext ctx = scenario_context();
  ctx.phase_durations.clear();
  CHECK(check_statement("after(trigger): p95 < 300ms within 30s", ctx, StatementKind::kAssertion)
            .empty());
}

TEST_CASE("a bare number against a client latency is a note, not an error") {
  const DslProblem p = only_problem("during(trigger): p95 > 800");
  CHECK(p.severity == DslProblem::Severity::kNote);
  CHECK_FALSE(p.is_error());
  CHECK(p.offset == 23);
  CHECK(p.length == 3);
  CHECK(p.message ==
        "a number without a unit compared with a latency is read as milliseconds: 800ms");
  CHECK(p.hint == "write 800ms to say so");
  CHECK(check("during(trigger): p95 > 800ms").empty());
  // An error elsewhere in the statement is still an error beside the note.
  const auto both = check("during(trigger): p95 > 800 and error_rate > 0.02");
  REQUIRE(both.size() == 2);
  CHECK_FALSE(both[0].is_error());
  CHECK(both[1].is_error());
}
