// The bootstrap itself: deterministic, honest about noise (two samples of one distribution
// mostly give an interval around 0), and decisive about real differences.
#include <doctest/doctest.h>

#include <cmath>

#include "common/rng.h"
#include "compare/bootstrap.h"

using namespace faultline;
using namespace faultline::compare;

namespace {

// n latencies drawn from an exponential with the given mean plus a 5 ms floor.
RunSample exponential_sample(Rng& rng, size_t n, double mean_ms) {
  RunSample s;
  for (size_t i = 0; i < n; ++i)
    s.add(5000 + static_cast<int64_t>(rng.exponential(mean_ms * 1000)), false);
  s.finish();
  return s;
}

// n requests, each an error with probability p.
RunSample error_sample(Rng& rng, size_t n, double p) {
  RunSample s;
  for (size_t i = 0; i < n; ++i) s.add(1000, rng.uniform01() < p);
  s.finish();
  return s;
}

const Statistic kP95 = *statistic_for_metric("p95");
const Statistic kErrorRate = *statistic_for_metric("error_rate");

bool contains_zero(const ChangeEstimate& e) {
  return e.low <= 0 && e.high >= 0;
}

}  // namespace

TEST_CASE("the same inputs give the same interval, another seed another one") {
  Rng rng(1);
  const RunSample a = exponential_sample(rng, 400, 20);
  const RunSample b = exponential_sample(rng, 400, 20);
  BootstrapOptions o;
  o.seed = 77;
  const auto first = bootstrap_improvements(a, b, {kP95}, o, "gate:x");
  const auto again = bootstrap_improvements(a, b, {kP95}, o, "gate:x");
  REQUIRE(first.size() == 1);
  CHECK(first[0].low == again[0].low);
  CHECK(first[0].high == again[0].high);
  CHECK(first[0].point == again[0].point);
  CHECK(first[0].low < first[0].high);
  o.seed = 78;
  const auto other = bootstrap_improvements(a, b, {kP95}, o, "gate:x");
  CHECK((other[0].low != first[0].low || other[0].high != first[0].high));
  // Another question, another stream.
  const auto other_stream = bootstrap_improvements(a, b, {kP95}, o, "gate:y");
  CHECK((other_stream[0].low != other[0].low || other_stream[0].high != other[0].high));
}

TEST_CASE("two samples of one distribution mostly give an interval that includes 0") {
  Rng rng(2024);
  BootstrapOptions o;
  o.resamples = 1000;
  int latency_covered = 0, errors_covered = 0;
  const int trials = 50;
  for (int t = 0; t < trials; ++t) {
    o.seed = static_cast<uint64_t>(t);
    const RunSample a = exponential_sample(rng, 300, 20);
    const RunSample b = exponential_sample(rng, 300, 20);
    latency_covered += contains_zero(bootstrap_improvements(a, b, {kP95}, o, "p95").front());
    const RunSample ea = error_sample(rng, 300, 0.1);
    const RunSample eb = error_sample(rng, 300, 0.1);
    errors_covered += contains_zero(bootstrap_improvements(ea, eb, {kErrorRate}, o, "e").front());
  }
  // Nominal 95%: about 47 of 50. Fewer than 43 would mean intervals far too narrow.
  MESSAGE("intervals containing 0: p95 " << latency_covered << "/" << trials << ", error_rate "
                                         << errors_covered << "/" << trials);
  CHECK(latency_covered >= 43);
  CHECK(errors_covered >= 43);
}

TEST_CASE("clearly different distributions give an interval that excludes 0") {
  Rng rng(7);
  BootstrapOptions o;
  o.resamples = 1000;
  for (int t = 0; t < 20; ++t) {
    o.seed = static_cast<uint64_t>(t);
    const RunSample slow = exponential_sample(rng, 300, 40);
    const RunSample fast = exponential_sample(rng, 300, 20);
    const ChangeEstimate better = bootstrap_improvements(slow, fast, {kP95}, o, "p95").front();
    CHECK(better.significant_improvement());
    CHECK(better.point > 0.3);
    const ChangeEstimate worse = bootstrap_improvements(fast, slow, {kP95}, o, "p95").front();
    CHECK(worse.significant_regression());
    const RunSample many = error_sample(rng, 300, 0.2);
    const RunSample few = error_sample(rng, 300, 0.05);
    CHECK(
        bootstrap_improvements(many, few, {kErrorRate}, o, "e").front().significant_improvement());
  }
}

TEST_CASE("the interval holds the central 95% of the replicates, no more and no less") {
  // The baseline fails every request, the candidate 400 of 2000. Each replicate's improvement
  // is then 1 - X / 2000 with X ~ Binomial(2000, 0.2): the interval should lie 1.96 standard
  // errors (se = sqrt(0.2 * 0.8 / 2000) = 0.0089) either side of the point 0.8. With 10000
  // resamples each end is found within about 0.03 se (plus steps of 0.056 se); a 97.5%
  // interval would reach 2.24 se, and the largest replicate about 3.9 se.
  RunSample baseline, candidate;
  for (int i = 0; i < 100; ++i) baseline.add(1000, true);
  for (int i = 0; i < 2000; ++i) candidate.add(1000, i < 400);
  baseline.finish();
  candidate.finish();
  BootstrapOptions o;
  o.resamples = 10000;
  const ChangeEstimate e =
      bootstrap_improvements(baseline, candidate, {kErrorRate}, o, "c").front();
  CHECK(e.point == doctest::Approx(0.8).scale(0));
  const double se = std::sqrt(0.2 * 0.8 / 2000);
  const double below = (e.point - e.low) / se;
  const double above = (e.high - e.point) / se;
  INFO("interval " << e.low << " .. " << e.high << ": " << below << " se below, " << above
                   << " se above");
  CHECK(below > 1.85);
  CHECK(below < 2.08);
  CHECK(above > 1.85);
  CHECK(above < 2.08);
}

TEST_CASE("one draw serves several statistics, each as if bootstrapped alone") {
  Rng rng(3);
  const RunSample a = exponential_sample(rng, 200, 20);
  const RunSample b = exponential_sample(rng, 200, 25);
  BootstrapOptions o;
  o.seed = 5;
  const Statistic p50 = *statistic_for_metric("p50");
  const Statistic mean = *statistic_for_metric("mean");
  const auto both = bootstrap_improvements(a, b, {p50, mean}, o, "s");
  const auto alone = bootstrap_improvements(a, b, {mean}, o, "s");
  CHECK(both[1].low == alone[0].low);
  CHECK(both[1].high == alone[0].high);
  CHECK(both[0].point != both[1].point);
}

TEST_CASE("statistics on the whole sample follow the judge's conventions") {
  RunSample s;
  for (int v : {40, 10, 30, 20}) s.add(v * 1000, v >= 30);
  s.finish();
  CHECK(s.latency_us().front() == 10000);
  CHECK(statistic_value(s, *statistic_for_metric("p50")) == doctest::Approx(0.020));  // rank 2
  CHECK(statistic_value(s, *statistic_for_metric("p95")) == doctest::Approx(0.040));
  CHECK(statistic_value(s, *statistic_for_metric("max")) == doctest::Approx(0.040));
  CHECK(statistic_value(s, *statistic_for_metric("mean")) == doctest::Approx(0.025));
  CHECK(statistic_value(s, *statistic_for_metric("error_rate")) == doctest::Approx(0.5));
  CHECK(statistic_value(s, *statistic_for_metric("count")) == doctest::Approx(2));
  CHECK(statistic_for_metric("rps")->higher_is_better);
  CHECK_FALSE(statistic_for_metric("p9"));
}

TEST_CASE("relative improvement is the judge's, from a baseline of 0 too") {
  CHECK(relative_improvement(2.0, 1.0, false) == doctest::Approx(0.5));
  CHECK(relative_improvement(1.0, 2.0, false) == doctest::Approx(-1.0));
  CHECK(relative_improvement(10, 12, true) == doctest::Approx(0.2));
  CHECK(relative_improvement(0, 0, false) == 0);
  CHECK(relative_improvement(0, 0.01, false) == -INFINITY);
  CHECK(relative_improvement(0, 3, true) == INFINITY);
}

TEST_CASE(
    "a run without errors against one with errors: an infinite regression, and the interval says "
    "so") {
  Rng rng(11);
  const RunSample clean = error_sample(rng, 200, 0);
  const RunSample failing = error_sample(rng, 200, 0.1);
  BootstrapOptions o;
  const ChangeEstimate e = bootstrap_improvements(clean, failing, {kErrorRate}, o, "e").front();
  CHECK(e.point == -INFINITY);
  CHECK(e.high == -INFINITY);
  CHECK(e.significant_regression());
  const ChangeEstimate both_clean =
      bootstrap_improvements(clean, clean, {kErrorRate}, o, "e").front();
  CHECK(both_clean.low == 0);
  CHECK(both_clean.high == 0);
  CHECK_FALSE(both_clean.significant_improvement());
  CHECK_FALSE(both_clean.significant_regression());
}
