// Gate semantics of faultline compare on recorded runs written by hand: a gate passes only
// when the point change meets it and the bootstrap interval backs it; too little traffic is
// inconclusive; server-side gates have no interval; runs of different plans are refused.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "common/error.h"
#include "compare/comparison.h"
#include "compare/comparison_json.h"
#include "plan/compiler.h"
#include "recorded_bundles.h"
#include "report_schema.h"
#include "temp_dir.h"

using namespace faultline;
using namespace faultline::compare;
using namespace faultline::testing;
using namespace std::chrono_literals;
using judge::VerdictStatus;

namespace {

// Latencies of every request: a 5 ms floor plus an exponential with mean `mean_ms`.
OutcomeFn exponential(double mean_ms) {
  return [mean_ms](const std::string&, const std::string&, Rng& rng) {
    return answered(5000 + static_cast<int64_t>(rng.exponential(mean_ms * 1000)));
  };
}

// Orders in the trigger take `order_ms` (times a spread), everything else 10-30 ms.
OutcomeFn trigger_orders(double order_ms) {
  return [order_ms](const std::string& phase, const std::string& route, Rng& rng) {
    const double spread = 0.5 + rng.uniform01();
    if (phase == "trigger" && route == "orders")
      return answered(static_cast<int64_t>(order_ms * 1000 * spread));
    return answered(static_cast<int64_t>(20000 * spread));
  };
}

// Two recorded runs and the directory holding them.
struct Runs {
  TempDir dir;
  RecordedRun baseline, candidate;
};

Runs write_runs(const std::string& name, const Plan& base_plan, const Plan& cand_plan,
                const OutcomeFn& base, const OutcomeFn& cand, int base_counter = 50,
                int cand_counter = 50, uint64_t cand_rng_seed = 2) {
  Runs r{TempDir("compare-" + name), {}, {}};
  const std::string& dir = r.dir.path();
  r.baseline = load_recorded_run(
      write_recorded_run(dir, base_plan, "before", "20261122T000000Z", base, 1, base_counter));
  r.candidate = load_recorded_run(write_recorded_run(dir, cand_plan, "after", "20261122T000100Z",
                                                     cand, cand_rng_seed, cand_counter));
  return r;
}

Runs write_runs(const std::string& name, const OutcomeFn& base, const OutcomeFn& cand) {
  const Plan plan = compile_plan(compare_scenario(), {});
  return write_runs(name, plan, plan, base, cand);
}

CompareOptions gates(std::vector<std::string> texts) {
  CompareOptions o;
  o.gates = std::move(texts);
  return o;
}

}  // namespace

TEST_CASE("improves by passes when the point change meets it and the interval lies above 0") {
  const Runs r = write_runs("improves-pass", trigger_orders(400), trigger_orders(100));
  const Comparison c = compare_runs(
      r.baseline, r.candidate, gates({"during(trigger): p95(route=orders) improves by >= 30%"}));
  REQUIRE(c.gates.size() == 1);
  const GateResult& g = c.gates[0];
  INFO(g.message);
  CHECK(g.status == VerdictStatus::kPass);
  CHECK(c.passed());
  REQUIRE(g.change.interval);
  CHECK(g.change.interval->low > 0.5);
  CHECK(*g.change.improvement == doctest::Approx(0.75).epsilon(0.05).scale(0));
  CHECK(g.change.significance == Significance::kImprovement);
  CHECK(g.change.baseline.samples == 150);  // 10 s x 50/s x 3 in 10
  CHECK(g.change.candidate.samples == 150);
  CHECK(g.message.find("significant improvement; passes") != std::string::npos);
  CHECK(c.notes.empty());
}

TEST_CASE("improves by fails on the point value") {
  const Runs r = write_runs("improves-point", trigger_orders(400), trigger_orders(300));
  const Comparison c = compare_runs(
      r.baseline, r.candidate, gates({"during(trigger): p95(route=orders) improves by >= 50%"}));
  const GateResult& g = c.gates[0];
  INFO(g.message);
  CHECK(g.status == VerdictStatus::kFail);
  CHECK_FALSE(c.passed());
  CHECK(g.message.find("expected an improvement of at least 50%") != std::string::npos);
}

TEST_CASE("improves by fails when the change is not significant, even if the point meets it") {
  // The baseline's p95 sits on a cliff: 9 orders in 150 take 1.5 s (6%, the p95 needs 5%), so
  // a resample puts it among the fast ones often. The candidate's p95 is fast.
  auto cliff = [](int every) {
    return [every, n = 0](const std::string& phase, const std::string& route, Rng&) mutable {
      if (phase == "trigger" && route == "orders" && ++n % every == 0) return answered(1'500'000);
      return answered(10'000);
    };
  };
  const Runs r = write_runs("improves-noise", cliff(16), cliff(1000));
  const Comparison c = compare_runs(
      r.baseline, r.candidate, gates({"during(trigger): p95(route=orders) improves by >= 30%"}));
  const GateResult& g = c.gates[0];
  INFO(g.message);
  CHECK(*g.change.improvement > 0.9);  // the point value says 99% better
  REQUIRE(g.change.interval);
  CHECK(g.change.interval->low <= 0);
  CHECK(g.change.significance == Significance::kNoChange);
  CHECK(g.status == VerdictStatus::kFail);
  CHECK(g.message.find("not significant") != std::string::npos);
}

TEST_CASE("regresses by <= X passes when even the interval's worst end is within X") {
  const Runs r = write_runs("regresses-pass", exponential(20), exponential(20));
  const Comparison c = compare_runs(
      r.baseline, r.candidate,
      gates({"during(warmup): p50 regresses by <= 30%", "overall: p95 improves by >= 1%"}));
  INFO(c.gates[0].message);
  CHECK(c.gates[0].status == VerdictStatus::kPass);
  CHECK(c.gates[0].change.significance == Significance::kNoChange);
  CHECK(c.gates[0].message.find("no significant change; passes") != std::string::npos);
  // Two samples of one distribution: no significant improvement either.
  INFO(c.gates[1].message);
  CHECK(c.gates[1].status == VerdictStatus::kFail);
  CHECK(c.gates[1].change.significance == Significance::kNoChange);
  // The bootstrap resampled exactly the warmup's requests, as the judge counted them: the one
  // sent at 10 s, when the trigger starts, is not the warmup's.
  CHECK(c.gates[0].change.baseline.samples == 500);
  CHECK(c.notes.empty());
}

TEST_CASE("regresses by >= X needs the regression to be significant, like improves by") {
  // The mirror of the cliff case above: the candidate's p95 sits on the cliff. Its point value
  // is a large regression, but a resample often misses the slow orders.
  auto cliff = [](int every) {
    return [every, n = 0](const std::string& phase, const std::string& route, Rng&) mutable {
      if (phase == "trigger" && route == "orders" && ++n % every == 0) return answered(1'500'000);
      return answered(10'000);
    };
  };
  const Runs r = write_runs("regresses-noise", cliff(1000), cliff(16));
  const Comparison c = compare_runs(
      r.baseline, r.candidate, gates({"during(trigger): p95(route=orders) regresses by >= 30%"}));
  const GateResult& g = c.gates[0];
  INFO(g.message);
  CHECK(*g.change.improvement < -0.9);  // the point value says far worse
  REQUIRE(g.change.interval);
  CHECK(g.change.interval->high >= 0);  // a regression of 0 is in the interval
  CHECK(g.status == VerdictStatus::kFail);
  CHECK(g.message.find("not significant") != std::string::npos);
}

TEST_CASE("regresses by < X fails when the interval reaches X exactly") {
  // Every baseline request fails; the candidate fails all but one of 1000. The point is a
  // regression of -0.1% (below 0%), but in more than 2.5% of the resamples the candidate's
  // one success is not drawn, a regression of exactly 0: the interval's worst end is 0, and
  // "< 0%" does not hold there.
  const auto all_fail = [](const std::string&, const std::string&, Rng&) {
    return answered(10'000, 500);
  };
  const auto one_success = [n = 0](const std::string&, const std::string&, Rng&) mutable {
    return answered(10'000, n++ == 0 ? 200 : 500);
  };
  const Runs r = write_runs("regresses-at-bound", all_fail, one_success);
  const Comparison c =
      compare_runs(r.baseline, r.candidate, gates({"overall: error_rate regresses by < 0%"}));
  const GateResult& g = c.gates[0];
  INFO(g.message);
  REQUIRE(g.change.interval);
  CHECK(*g.change.improvement > 0);
  CHECK(g.change.interval->low == 0);  // no improvement at all, in the worst resamples
  CHECK(g.status == VerdictStatus::kFail);
  CHECK(g.message.find("the interval allows a regression of up to 0%") != std::string::npos);
}

TEST_CASE("regresses by <= X fails when the interval allows more than X") {
  // Every order 4% slower (the same draws scaled), but 150 orders cannot rule out 6%.
  const Plan plan = compile_plan(compare_scenario(), {});
  const Runs r =
      write_runs("regresses-fail", plan, plan, trigger_orders(100), trigger_orders(104), 50, 50, 1);
  const Comparison c =
      compare_runs(r.baseline, r.candidate,
                   gates({"during(trigger): p50(route=orders) regresses by <= 6%",
                          "during(trigger): p50(route=orders) regresses by <= 40%"}));
  const GateResult& tight = c.gates[0];
  INFO(tight.message);
  REQUIRE(tight.change.interval);
  // The point regression is the 4% the draws were scaled by (give or take 10% of it): within
  // the gate's 6%. The interval is not.
  CHECK(-*tight.change.improvement == doctest::Approx(0.04).epsilon(0.1).scale(0));
  CHECK(-tight.change.interval->low > 0.06);
  CHECK(tight.status == VerdictStatus::kFail);
  CHECK(tight.message.find("the interval allows a regression of up to") != std::string::npos);
  INFO(c.gates[1].message);
  CHECK(c.gates[1].status == VerdictStatus::kPass);
}

TEST_CASE("a gate below the traffic guard in either run is inconclusive and fails") {
  Scenario s = compare_scenario();
  s.observe.guard.min_requests = 200;  // the trigger has 150 orders
  const Plan plan = compile_plan(s, {});
  const Runs r = write_runs("guard", plan, plan, trigger_orders(400), trigger_orders(100));
  const Comparison c = compare_runs(
      r.baseline, r.candidate, gates({"during(trigger): p95(route=orders) improves by >= 30%"}));
  const GateResult& g = c.gates[0];
  INFO(g.message);
  CHECK(g.status == VerdictStatus::kInconclusive);
  CHECK_FALSE(c.passed());
  CHECK(g.message.find("need >= 200") != std::string::npos);
  CHECK_FALSE(g.change.interval);
}

TEST_CASE("server-side gates are judged on the point values, with no interval") {
  const Plan plan = compile_plan(compare_scenario(), {});
  const Runs r = write_runs("server", plan, plan, exponential(20), exponential(20), 50, 40);
  const Comparison c = compare_runs(
      r.baseline, r.candidate,
      gates({"during(trigger): metric.increase(http_requests_total) improves by >= 10%",
             "during(trigger): metric.increase(http_requests_total) improves by >= 30%"}));
  INFO(c.gates[0].message);
  CHECK(c.gates[0].status == VerdictStatus::kPass);  // 500 -> 400: 20% fewer
  CHECK(*c.gates[0].change.improvement == doctest::Approx(0.2));
  CHECK_FALSE(c.gates[0].change.interval);
  CHECK(c.gates[0].change.significance == Significance::kNotTested);
  CHECK(c.gates[0].message.find("no interval (server-side)") != std::string::npos);
  CHECK(c.gates[1].status == VerdictStatus::kFail);
}

TEST_CASE("error_rate and count gates resample the requests' outcomes") {
  auto failing = [](int every) {
    return [every, n = 0](const std::string& phase, const std::string& route, Rng&) mutable {
      if (phase == "trigger" && route == "orders" && ++n % every == 0) return answered(50'000, 503);
      return answered(10'000);
    };
  };
  const Runs r = write_runs("errors", failing(5), failing(50));
  const Comparison c =
      compare_runs(r.baseline, r.candidate,
                   gates({"during(trigger): error_rate(route=orders) improves by >= 50%",
                          "during(trigger): count(status=5xx) improves by >= 50%",
                          "during(warmup): error_rate regresses by <= 1%"}));
  for (const auto& g : c.gates) {
    INFO(g.statement << ": " << g.message);
    CHECK(g.status == VerdictStatus::kPass);
  }
  CHECK(*c.gates[0].change.improvement == doctest::Approx(0.9));  // 20% -> 2%
  CHECK(c.gates[0].change.interval->low > 0.5);
  CHECK(*c.gates[1].change.improvement == doctest::Approx(0.9));  // 30 -> 3
  // No errors in either warmup: exactly unchanged, and the interval is a point.
  CHECK(c.gates[2].change.interval->low == 0);
  CHECK(c.gates[2].change.interval->high == 0);
}

TEST_CASE("runs of different plans are refused, naming what differs") {
  Scenario s = compare_scenario();
  const Plan a = compile_plan(s, {});
  PlanOverrides other_seed;
  other_seed.seed = 10;
  const Plan b = compile_plan(s, other_seed);
  const Runs r = write_runs("plans", a, b, exponential(20), exponential(20));
  const CompareOptions o = gates({"during(trigger): p95 improves by >= 10%"});
  CHECK_THROWS_WITH_AS(compare_runs(r.baseline, r.candidate, o), doctest::Contains("seed: 9 vs 10"),
                       UsageError);
  CompareOptions allowed = o;
  allowed.allow_different_plans = true;
  const Comparison c = compare_runs(r.baseline, r.candidate, allowed);
  REQUIRE(c.plan_differences.size() == 1);
  CHECK(c.plan_differences[0].str() == "seed: 9 vs 10");
}

TEST_CASE("plan differences name every differing input with both values") {
  Scenario s = compare_scenario();
  const Plan a = compile_plan(s, {});
  s.phases[1].duration = 15s;
  s.traffic.routes[1].weight = 4;
  s.compare = {{"during(trigger): p95 improves by >= 30%", {}}};
  const Plan b = compile_plan(s, {});
  CHECK(diff_plans(a, a).empty());
  std::vector<std::string> found;
  for (const auto& d : diff_plans(a, b)) found.push_back(d.str());
  INFO(doctest::toString(found.size()));
  const auto has = [&](const std::string& text) {
    return std::find(found.begin(), found.end(), text) != found.end();
  };
  CHECK(has("total_us: 20000000 vs 25000000"));
  CHECK(has("phases[1].end_us: 20000000 vs 25000000"));
  CHECK(has("traffic.routes[1].weight: 3.0 vs 4.0"));
  CHECK(has("compare[0]: (absent) vs \"during(trigger): p95 improves by >= 30%\""));
  CHECK(found.size() == 4);
}

TEST_CASE("with different plans allowed, each run is read over its own phase of that name") {
  Scenario s = compare_scenario();
  const Plan a = compile_plan(s, {});
  s.phases[1].duration = 15s;
  const Plan b = compile_plan(s, {});
  const Runs r = write_runs("phases", a, b, trigger_orders(400), trigger_orders(100));
  CompareOptions o = gates({"during(trigger): p95(route=orders) improves by >= 30%"});
  o.allow_different_plans = true;
  const Comparison c = compare_runs(r.baseline, r.candidate, o);
  const GateResult& g = c.gates[0];
  INFO(g.message);
  CHECK(g.change.baseline.samples == 150);
  CHECK(g.change.candidate.samples == 225);  // 15 s of the candidate's trigger
  CHECK(g.status == VerdictStatus::kPass);
  CHECK(c.notes.size() == 1);
}

TEST_CASE("spec gates and --gate are judged together, each once, and none at all is refused") {
  Scenario s = compare_scenario();
  s.compare = {{"during(trigger): p95 improves by >= 30%", {}}};
  const Plan plan = compile_plan(s, {});
  const Runs r = write_runs("sources", plan, plan, exponential(20), exponential(20));
  CompareOptions o =
      gates({"during(trigger):  p95 improves by >=30%", "overall: p50 regresses by <= 50%"});
  const Comparison c = compare_runs(r.baseline, r.candidate, o);
  REQUIRE(c.gates.size() == 2);
  CHECK(c.gates[0].origin == "spec");
  CHECK(c.gates[1].origin == "--gate");
  CompareOptions none;
  none.use_spec_gates = false;
  CHECK_THROWS_WITH_AS(compare_runs(r.baseline, r.candidate, none),
                       doctest::Contains("nothing to judge"), UsageError);
}

TEST_CASE("an invalid --gate gets a caret under the offending part") {
  const Plan plan = compile_plan(compare_scenario(), {});
  const auto problems = check_gate_texts(
      {"during(trigger): p95 improves by >= 30%", "during(trigge): p95 improves by >= 30%"}, plan);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].loc.str() == "--gate:2:8");
  CHECK(problems[0].message == "unknown phase 'trigge'");
  CHECK(problems[0].hint.find("did you mean 'trigger'?") != std::string::npos);
  const std::string text = format_diagnostic(problems[0], false);
  CHECK(text.find("during(trigge): p95 improves by >= 30%\n") != std::string::npos);
  CHECK(text.find("|        ^~~~~~") != std::string::npos);
  CHECK(check_gate_texts({"during(trigger): p95(route=order) improves by >= 30%"}, plan).size() ==
        1);
}

TEST_CASE("the compare artifact satisfies schemas/compare.schema.json") {
  auto clean_then_failing = [](bool fail) {
    return [fail](const std::string& phase, const std::string& route, Rng& rng) {
      if (fail && phase == "trigger" && route == "orders" && rng.uniform01() < 0.2)
        return unanswered("timeout");
      return answered(5000 + static_cast<int64_t>(rng.exponential(20000)));
    };
  };
  Scenario s = compare_scenario();
  s.compare = {{"during(trigger): error_rate improves by >= 10%", {}}};
  const Plan plan = compile_plan(s, {});
  const Runs r =
      write_runs("schema", plan, plan, clean_then_failing(false), clean_then_failing(true), 50, 40);
  const Comparison c = compare_runs(
      r.baseline, r.candidate,
      gates({"during(trigger): metric.increase(http_requests_total) improves by >= 10%",
             "during(trigger): p95 / during(warmup).p95 regresses by <= 50%",
             "during(trigger, last 5s): count(route=orders) regresses by <= 5%"}));
  REQUIRE(c.gates.size() == 4);
  CHECK(*c.gates[0].change.improvement == -INFINITY);  // 0% -> some errors
  CHECK(c.gates[0].status == VerdictStatus::kFail);
  CHECK(c.gates[2].change.interval_note.find("computed value") != std::string::npos);
  const std::string json = comparison_to_json(c);
  CHECK(schema_problem("compare.schema.json", json) == "");
  // The validator does object: a damaged artifact is refused.
  std::string damaged = json;
  damaged.replace(damaged.find("\"schema_version\": 1"), 19, "\"schema_version\": 2");
  CHECK(schema_problem("compare.schema.json", damaged) != "");
}

TEST_CASE("a bundle without its samples is a usage error naming the file") {
  const Runs r = write_runs("damaged", exponential(20), exponential(20));
  std::filesystem::remove(r.candidate.bundle_dir + "/samples.csv.gz");
  CHECK_THROWS_WITH_AS(
      compare_runs(r.baseline, r.candidate, gates({"overall: p50 regresses by <= 50%"})),
      doctest::Contains("samples.csv.gz"), UsageError);
}
