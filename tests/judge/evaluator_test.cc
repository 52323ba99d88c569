#include "judge/evaluator.h"
#include "parse_statement.h"

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "dsl/parser.h"
#include "dsl/printer.h"

using namespace faultline;
using namespace faultline::judge;
using namespace std::chrono_literals;
using faultline::testing::parse;

namespace {

// Answers from a table keyed by "<canonical query>@<window label>", and remembers every
// question with its exact window times.
class FakeSource : public MetricSource {
 public:
  void set(const std::string& key, std::optional<double> value, int64_t samples,
           std::string note = "") {
    table_[key] = Observed{value, samples, std::move(note)};
  }
  Observed client(const TimeWindow& w, const ClientQuery& q) const override {
    return answer(dsl::to_string(q), w);
  }
  Observed server(const TimeWindow& w, const ServerQuery& q) const override {
    return answer(dsl::to_string(q), w);
  }
  mutable std::vector<std::string> asked;  // "p95@[10000000,35000000)"

 private:
  Observed answer(const std::string& query, const TimeWindow& w) const {
    asked.push_back(query + "@[" + std::to_string(w.start.count()) + "," +
                    std::to_string(w.end.count()) + ")");
    const auto it = table_.find(query + "@" + w.label);
    if (it == table_.end()) return Observed{std::nullopt, 0, "no samples"};
    return it->second;
  }
  std::map<std::string, Observed> table_;
};

std::vector<PhaseWindow> phases() {
  return {PhaseWindow{"warmup", 0s, 10s, 10, 10}, PhaseWindow{"trigger", 10s, 35s, 10, 10},
          PhaseWindow{"cooldown", 35s, 55s, 10, 10}};
}

Verdict judge_text(const std::string& text, const FakeSource& source, JudgeOptions options = {}) {
  return evaluate(parse(text), phases(), source, options);
}

}  // namespace

TEST_CASE("every comparison holds or not exactly at its bound") {
  // p95 below, at and above 800ms (0.8 s, the literal's exact double).
  const std::vector<std::pair<std::string, std::vector<VerdictStatus>>> cases{
      {">", {VerdictStatus::kFail, VerdictStatus::kFail, VerdictStatus::kPass}},
      {">=", {VerdictStatus::kFail, VerdictStatus::kPass, VerdictStatus::kPass}},
      {"<", {VerdictStatus::kPass, VerdictStatus::kFail, VerdictStatus::kFail}},
      {"<=", {VerdictStatus::kPass, VerdictStatus::kPass, VerdictStatus::kFail}},
      {"==", {VerdictStatus::kFail, VerdictStatus::kPass, VerdictStatus::kFail}},
      {"!=", {VerdictStatus::kPass, VerdictStatus::kFail, VerdictStatus::kPass}},
  };
  const double values[] = {0.799, 0.8, 0.801};
  for (const auto& [op, expected] : cases) {
    for (size_t i = 0; i < 3; ++i) {
      FakeSource src;
      src.set("p95@during(trigger)", values[i], 100);
      const std::string text = "during(trigger): p95 " + op + " 800ms";
      INFO(text << " with p95 = " << values[i]);
      CHECK(judge_text(text, src).status == expected[i]);
    }
  }
}

TEST_CASE("a failing assertion says what was expected and what was observed") {
  FakeSource src;
  src.set("p95(route=orders)@during(trigger)", 0.412, 734);
  const Verdict v = judge_text("during(trigger): p95(route=orders) > 800ms", src);
  CHECK(v.status == VerdictStatus::kFail);
  CHECK(v.statement == "during(trigger): p95(route=orders) > 800ms");
  CHECK(v.message ==
        "expected p95(route=orders) > 800ms during(trigger) [10s..35s), observed 412ms over 734 "
        "requests");
  CHECK(v.expected == "p95(route=orders) above 800ms during(trigger) [10s..35s)");
  REQUIRE(v.windows.size() == 1);
  CHECK(v.windows[0] == TimeWindow{10s, 35s, "during(trigger)"});
  REQUIRE(v.operands.size() == 1);
  CHECK(v.operands[0].what == "p95(route=orders)");
  CHECK(v.operands[0].value_text == "412ms");
  CHECK(v.operands[0].observed.sample_count == 734);
  CHECK(v.operands[0].type == dsl::ValueType::kDuration);
  CHECK(v.operands[0].required_samples == 20);
}

TEST_CASE("a passing assertion") {
  FakeSource src;
  src.set("error_rate(status=5xx)@during(trigger)", 0.031, 500);
  const Verdict v = judge_text("during(trigger): error_rate(status=5xx) > 2%", src);
  CHECK(v.status == VerdictStatus::kPass);
  CHECK(v.message ==
        "error_rate(status=5xx) > 2% held during(trigger) [10s..35s): observed 3.1% over 500 "
        "requests");
}

TEST_CASE("the traffic guard makes thin windows inconclusive") {
  FakeSource src;
  src.set("p95(route=orders)@during(trigger)", 0.9, 7);
  src.set("p95@during(trigger)", 0.9, 7);
  Verdict v = judge_text("during(trigger): p95(route=orders) > 800ms", src);
  CHECK(v.status == VerdictStatus::kInconclusive);
  CHECK(v.message ==
        "cannot judge p95(route=orders) > 800ms during(trigger) [10s..35s): only 7 requests for "
        "p95(route=orders) in during(trigger) [10s..35s), need >= 20: raise the rate or "
        "lengthen the phase");
  CHECK(v.operands[0].below_guard());

  v = judge_text("during(trigger): p95 > 800ms", src);
  CHECK(v.message.find("only 7 requests in during(trigger) [10s..35s), need >= 20") !=
        std::string::npos);

  JudgeOptions lenient;
  lenient.guard.min_requests = 5;
  CHECK(judge_text("during(trigger): p95 > 800ms", src, lenient).status == VerdictStatus::kPass);

  // A missing value is inconclusive too, with the source's note.
  v = judge_text("during(warmup): p95 < 300ms", src);
  CHECK(v.status == VerdictStatus::kInconclusive);
  CHECK(v.message.find("no value for p95 in during(warmup) [0s..10s): no samples") !=
        std::string::npos);
}

TEST_CASE("server quantiles use the histogram guard, gauges and counters need only a value") {
  FakeSource src;
  const std::string q = "metric.p95(lat_seconds{route=\"/orders\"})";
  src.set(q + "@during(trigger)", 1.2, 12);
  src.set("metric.max(queue_depth)@overall", 3, 2);
  src.set("metric.increase(dlq_total)@after(cooldown)", 0, 1);
  const Verdict v = judge_text("during(trigger): " + q + " > 1s", src);
  CHECK(v.status == VerdictStatus::kInconclusive);
  CHECK(v.operands[0].sample_noun == "observations");
  CHECK(v.message.find("only 12 observations of lat_seconds in during(trigger)") !=
        std::string::npos);
  JudgeOptions options;
  options.guard.min_histogram_count = 10;
  CHECK(judge_text("during(trigger): " + q + " > 1s", src, options).status == VerdictStatus::kPass);
  CHECK(judge_text("overall: metric.max(queue_depth) < 1000", src).status == VerdictStatus::kPass);
  const Verdict dlq = judge_text("after(cooldown): metric.increase(dlq_total) == 0", src);
  CHECK(dlq.status == VerdictStatus::kPass);
  CHECK(dlq.operands[0].sample_noun == "scrapes");
}

TEST_CASE("back to normal compares with the baseline phase within the tolerance") {
  FakeSource src;
  src.set("p95@during(warmup)", 0.120, 300);
  const auto at = [&](double now) {
    src.set("p95@after(cooldown)", now, 400);
    return judge_text("after(cooldown): p95 back to normal", src);
  };
  // allowed = max(0.25 * 120ms, 20ms) = 30ms
  CHECK(at(0.150).status == VerdictStatus::kPass);
  CHECK(at(0.090).status == VerdictStatus::kPass);
  const Verdict far = at(0.1501);
  CHECK(far.status == VerdictStatus::kFail);
  CHECK(far.message ==
        "expected p95 back to normal after(cooldown) [45s..55s), observed 150.1ms over 400 "
        "requests, baseline 120ms over 300 requests in during(warmup) [0s..10s): off by 30.1ms, "
        "allowed 30ms");
  CHECK(far.expected ==
        "p95 within 25% or 20ms of its value in during(warmup) after(cooldown) "
        "[45s..55s)");
  REQUIRE(far.windows.size() == 2);
  CHECK(far.windows[1] == TimeWindow{0s, 10s, "during(warmup)"});

  // Near zero the absolute tolerance applies (in the value's unit: 2 percentage points).
  src.set("error_rate@during(warmup)", 0.0, 300);
  src.set("error_rate@after(cooldown)", 0.019, 300);
  CHECK(judge_text("after(cooldown): error_rate back to normal", src).status ==
        VerdictStatus::kPass);
  src.set("error_rate@after(cooldown)", 0.021, 300);
  CHECK(judge_text("after(cooldown): error_rate back to normal", src).status ==
        VerdictStatus::kFail);

  // The tolerance and its baseline phase come from the options.
  JudgeOptions options;
  options.tolerance.relative = 0.5;
  options.tolerance.baseline_phase = "trigger";
  src.set("p95@during(trigger)", 0.2, 300);
  src.set("p95@after(cooldown)", 0.29, 400);
  CHECK(judge_text("after(cooldown): p95 back to normal", src, options).status ==
        VerdictStatus::kPass);
}

TEST_CASE("an empty baseline never passes back to normal") {
  FakeSource src;
  src.set("p95@after(cooldown)", 0.120, 400);
  Verdict v = judge_text("after(cooldown): p95 back to normal", src);
  CHECK(v.status == VerdictStatus::kInconclusive);
  CHECK(v.message.find("baseline no value for p95 in during(warmup) [0s..10s)") !=
        std::string::npos);
  src.set("p95@during(warmup)", 0.120, 3);  // the same value, but only 3 requests
  v = judge_text("after(cooldown): p95 back to normal", src);
  CHECK(v.status == VerdictStatus::kInconclusive);
  CHECK(v.message.find("baseline only 3 requests in during(warmup) [0s..10s), need >= 20") !=
        std::string::npos);
}

TEST_CASE("and/or use three-valued logic") {
  FakeSource src;
  src.set("p50@overall", 0.1, 100);  // p50 < 1s passes, p50 > 1s fails
  src.set("p99@overall", 0.5, 3);    // below the guard: inconclusive
  const auto status = [&](const std::string& cond) {
    return judge_text("overall: " + cond, src).status;
  };
  const std::string pass = "p50 < 1s", fail = "p50 > 1s", inc = "p99 < 1s";
  CHECK(status(pass + " and " + pass) == VerdictStatus::kPass);
  CHECK(status(pass + " and " + fail) == VerdictStatus::kFail);
  CHECK(status(pass + " and " + inc) == VerdictStatus::kInconclusive);
  CHECK(status(fail + " and " + inc) == VerdictStatus::kFail);
  CHECK(status(inc + " and " + fail) == VerdictStatus::kFail);
  CHECK(status(pass + " or " + fail) == VerdictStatus::kPass);
  CHECK(status(fail + " or " + fail) == VerdictStatus::kFail);
  CHECK(status(fail + " or " + inc) == VerdictStatus::kInconclusive);
  CHECK(status(inc + " or " + pass) == VerdictStatus::kPass);
  CHECK(status("(" + fail + " or " + inc + ") and " + fail) == VerdictStatus::kFail);
  CHECK(status(fail + " or " + inc + " and " + pass) == VerdictStatus::kInconclusive);

  // Compound messages name the comparisons that decided.
  const Verdict v = judge_text("overall: p50 < 1s and p50 > 1s and p99 < 1s", src);
  CHECK(v.message ==
        "expected p50 < 1s and p50 > 1s and p99 < 1s overall [0s..55s); p50 > 1s failed: "
        "observed 100ms over 100 requests");
  const Verdict i = judge_text("overall: p50 > 1s or p99 < 1s", src);
  CHECK(i.message ==
        "cannot judge p50 > 1s or p99 < 1s overall [0s..55s): only 3 requests in overall "
        "[0s..55s), need >= 20: raise the rate or lengthen the phase");
}

TEST_CASE("windows resolve to exact plan times") {
  FakeSource src;
  const auto asked_for = [&](const std::string& text) {
    src.asked.clear();
    judge_text(text, src);
    REQUIRE(src.asked.size() == 1);
    return src.asked[0];
  };
  CHECK(asked_for("during(trigger): p95 > 1s") == "p95@[10000000,35000000)");
  CHECK(asked_for("during(trigger, last 10s): p95 > 1s") == "p95@[25000000,35000000)");
  CHECK(asked_for("after(trigger): p95 > 1s") == "p95@[22500000,35000000)");
  CHECK(asked_for("overall: p95 > 1s") == "p95@[0,55000000)");
  CHECK(asked_for("during(trigger, last 40s): p95 > 1s") == "p95@[10000000,35000000)");

  src.set("p95@during(trigger, last 40s)", 2, 100);
  const Verdict clamped = judge_text("during(trigger, last 40s): p95 > 1s", src);
  CHECK(clamped.status == VerdictStatus::kPass);
  CHECK(clamped.message.ends_with(" (last 40s clamped to the phase's 25s)"));

  const Verdict unknown = judge_text("during(nope): p95 > 1s", src);
  CHECK(unknown.status == VerdictStatus::kInconclusive);
  CHECK(unknown.message == "cannot judge during(nope): p95 > 1s: unknown phase 'nope'");
  CHECK(evaluate(parse("overall: p95 > 1s"), {}, src, {}).message ==
        "cannot judge overall: p95 > 1s: the plan has no phases");
}

TEST_CASE("values from other windows") {
  FakeSource src;
  src.set("p95@during(trigger)", 0.412, 734);
  src.set("p95@during(warmup)", 0.120, 300);
  const Verdict v = judge_text("during(trigger): p95 > 3 * during(warmup).p95", src);
  CHECK(v.status == VerdictStatus::kPass);
  CHECK(v.message ==
        "p95 > 3 * during(warmup).p95 held during(trigger) [10s..35s): observed p95 = 412ms "
        "over 734 requests, p95 = 120ms over 300 requests in during(warmup) [0s..10s), "
        "3 * during(warmup).p95 = 360ms");
  REQUIRE(v.windows.size() == 2);
  CHECK(v.windows[1] == TimeWindow{0s, 10s, "during(warmup)"});
  CHECK(v.operands[1].window == TimeWindow{0s, 10s, "during(warmup)"});

  src.set("p95@during(warmup)", 0.0, 300);
  const Verdict zero = judge_text("during(trigger): p95 / during(warmup).p95 > 2", src);
  CHECK(zero.status == VerdictStatus::kInconclusive);
  CHECK(zero.message.find("p95 / during(warmup).p95 divides by zero") != std::string::npos);

  src.set("p95@during(warmup)", NAN, 300);
  CHECK(judge_text("during(trigger): p95 > during(warmup).p95", src).status ==
        VerdictStatus::kInconclusive);
}

TEST_CASE("abort_if conditions are judged on the part of the window seen so far") {
  FakeSource src;
  const auto stmt = parse("during(trigger): error_rate > 50%", dsl::StatementKind::kAbortIf);
  CHECK_FALSE(evaluate_abort_if(stmt, phases(), 10s, src, {}).has_value());  // not started
  CHECK_FALSE(evaluate_abort_if(stmt, phases(), 5s, src, {}).has_value());

  src.set("error_rate@during(trigger)", 0.8, 120);
  src.asked.clear();
  auto v = evaluate_abort_if(stmt, phases(), 20s, src, {});
  REQUIRE(v.has_value());
  CHECK(v->status == VerdictStatus::kPass);  // holds: the run should abort
  CHECK(src.asked == std::vector<std::string>{"error_rate@[10000000,20000000)"});
  CHECK(v->windows[0] == TimeWindow{10s, 20s, "during(trigger)"});

  // Early in the window the guard keeps it inconclusive: a few samples cannot abort.
  src.set("error_rate@during(trigger)", 1.0, 3);
  v = evaluate_abort_if(stmt, phases(), 11s, src, {});
  REQUIRE(v.has_value());
  CHECK(v->status == VerdictStatus::kInconclusive);

  // after(P) starts at the middle of P; `last D` slides with now; past the end it is complete.
  const auto after = parse("after(trigger): p95 > 1s", dsl::StatementKind::kAbortIf);
  CHECK_FALSE(evaluate_abort_if(after, phases(), 20s, src, {}).has_value());
  const auto last = parse("during(trigger, last 5s): p95 > 1s", dsl::StatementKind::kAbortIf);
  src.asked.clear();
  evaluate_abort_if(last, phases(), 20s, src, {});
  evaluate_abort_if(last, phases(), 12s, src, {});
  evaluate_abort_if(last, phases(), 50s, src, {});
  CHECK(src.asked == std::vector<std::string>{"p95@[15000000,20000000)", "p95@[10000000,12000000)",
                                              "p95@[30000000,35000000)"});
  // A cross-window read of a window that has not started is inconclusive.
  const auto cross =
      parse("during(trigger): p95 > during(cooldown).p95", dsl::StatementKind::kAbortIf);
  src.set("p95@during(trigger)", 2, 100);
  v = evaluate_abort_if(cross, phases(), 20s, src, {});
  REQUIRE(v.has_value());
  CHECK(v->status == VerdictStatus::kInconclusive);
  CHECK(v->message.find("during(cooldown) has not started yet") != std::string::npos);
}

TEST_CASE("compare gates judge the relative change between two runs") {
  FakeSource base, cand;
  base.set("p95@during(trigger)", 0.400, 700);
  const auto gate = [&](const std::string& text, double candidate_value) {
    cand.set("p95@during(trigger)", candidate_value, 710);
    return evaluate_gate(parse(text, dsl::StatementKind::kCompareGate), phases(), base, cand, {});
  };
  GateVerdict g = gate("during(trigger): p95 improves by >= 30%", 0.250);
  CHECK(g.verdict.status == VerdictStatus::kPass);
  CHECK(*g.improvement == doctest::Approx(0.375));
  CHECK_FALSE(g.higher_is_better);
  CHECK_FALSE(g.change_interval.has_value());
  REQUIRE(g.verdict.operands.size() == 2);
  CHECK(g.verdict.operands[0].run == "baseline");
  CHECK(g.verdict.operands[1].run == "candidate");
  CHECK(g.verdict.operands[1].value_text == "250ms");

  g = gate("during(trigger): p95 improves by >= 30%", 0.300);
  CHECK(g.verdict.status == VerdictStatus::kFail);
  CHECK(g.verdict.message ==
        "expected p95 improves by >= 30% during(trigger) [10s..35s), observed baseline 400ms "
        "over 700 requests, candidate 300ms over 710 requests: improved by 25% (lower is "
        "better)");
  CHECK(g.verdict.expected ==
        "p95 to improve by at least 30% from baseline to candidate during(trigger) [10s..35s)");

  CHECK(gate("during(trigger): p95 improves by >= 30%", 0.5).verdict.status ==
        VerdictStatus::kFail);
  CHECK(gate("during(trigger): p95 regresses by <= 10%", 0.430).verdict.status ==
        VerdictStatus::kPass);
  CHECK(gate("during(trigger): p95 regresses by <= 10%", 0.350).verdict.status ==
        VerdictStatus::kPass);
  g = gate("during(trigger): p95 regresses by <= 10%", 0.500);
  CHECK(g.verdict.status == VerdictStatus::kFail);
  CHECK(g.verdict.message.find("regressed by 25% (lower is better)") != std::string::npos);

  // rps: higher is better.
  base.set("rps@overall", 100, 5000);
  cand.set("rps@overall", 140, 7000);
  const auto stmt = parse("overall: rps improves by >= 30%", dsl::StatementKind::kCompareGate);
  g = evaluate_gate(stmt, phases(), base, cand, {});
  CHECK(g.higher_is_better);
  CHECK(*g.improvement == doctest::Approx(0.4));
  CHECK(g.verdict.status == VerdictStatus::kPass);
  cand.set("rps@overall", 90, 4500);
  CHECK(evaluate_gate(stmt, phases(), base, cand, {}).verdict.status == VerdictStatus::kFail);

  // Error rates from a baseline of zero: no errors stays at 0, new errors are infinitely worse.
  base.set("error_rate(status=5xx)@during(trigger)", 0, 700);
  cand.set("error_rate(status=5xx)@during(trigger)", 0.01, 700);
  const auto regress = parse("during(trigger): error_rate(status=5xx) regresses by <= 10%",
                             dsl::StatementKind::kCompareGate);
  g = evaluate_gate(regress, phases(), base, cand, {});
  CHECK(g.verdict.status == VerdictStatus::kFail);
  CHECK(std::isinf(*g.improvement));
  cand.set("error_rate(status=5xx)@during(trigger)", 0, 700);
  g = evaluate_gate(regress, phases(), base, cand, {});
  CHECK(g.verdict.status == VerdictStatus::kPass);
  CHECK(*g.improvement == 0);

  // A thin candidate run is inconclusive.
  cand.set("p95@during(trigger)", 0.1, 4);
  g = evaluate_gate(
      parse("during(trigger): p95 improves by >= 30%", dsl::StatementKind::kCompareGate), phases(),
      base, cand, {});
  CHECK(g.verdict.status == VerdictStatus::kInconclusive);
  CHECK_FALSE(g.improvement.has_value());
  CHECK(g.verdict.message.find("candidate: only 4 requests in during(trigger)") !=
        std::string::npos);
}

TEST_CASE("windows_read lists every window a statement needs, in plan time") {
  const auto labels = [](const std::vector<TimeWindow>& windows) {
    std::vector<std::string> out;
    for (const auto& w : windows) {
      out.push_back(w.label + "@" + std::to_string(w.start.count() / 1000000) + "-" +
                    std::to_string(w.end.count() / 1000000));
    }
    return out;
  };
  const JudgeOptions options;
  CHECK(labels(windows_read(parse("during(trigger, last 5s): p95 > 2 * overall.p95 and p99 "
                                  "back to normal"),
                            phases(), options)) ==
        std::vector<std::string>{"during(trigger, last 5s)@30-35", "overall@0-55",
                                 "during(warmup)@0-10"});
  CHECK(labels(windows_read(
            parse("after(cooldown): p95 improves by >= 10%", dsl::StatementKind::kCompareGate),
            phases(), options)) == std::vector<std::string>{"after(cooldown)@45-55"});
}
