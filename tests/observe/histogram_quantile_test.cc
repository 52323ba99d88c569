#include "observe/histogram_quantile.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "common/rng.h"
#include "observe/metrics_text_parser.h"
#include "promtool_oracle.h"

using faultline::Rng;
using faultline::observe::histogram_quantile;
using faultline::observe::HistogramBucket;
using faultline::observe::testing::PromtoolOracle;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

TEST_CASE("histogram_quantile: special q values") {
  const std::vector<HistogramBucket> h = {{0.1, 5}, {0.2, 7}, {kInf, 10}};
  CHECK(histogram_quantile(-0.1, h) == -kInf);
  CHECK(histogram_quantile(1.1, h) == kInf);
  CHECK(std::isnan(histogram_quantile(std::nan(""), h)));
  // q is checked before anything else, as in Prometheus.
  CHECK(histogram_quantile(-1, {}) == -kInf);
  CHECK(histogram_quantile(2, {}) == kInf);
}

TEST_CASE("histogram_quantile: hand-computed values") {
  const std::vector<HistogramBucket> h = {{0.1, 5}, {0.2, 7}, {kInf, 10}};
  CHECK(histogram_quantile(0, h) == 0);                        // lowest bucket interpolates from 0
  CHECK(histogram_quantile(0.3, h) == doctest::Approx(0.06));  // 0.1 * 3/5
  CHECK(histogram_quantile(0.5, h) == doctest::Approx(0.1));   // rank 5 = bucket edge
  CHECK(histogram_quantile(0.6, h) == doctest::Approx(0.15));  // 0.1 + 0.1 * 1/2
  CHECK(histogram_quantile(0.7, h) == doctest::Approx(0.2));
  CHECK(histogram_quantile(0.9, h) == 0.2);  // in +Inf: the second-highest upper bound
  CHECK(histogram_quantile(1, h) == 0.2);
}

TEST_CASE("histogram_quantile: a flat histogram at q=1 ends in its first full bucket") {
  // Every observation is in the lowest bucket: rank 4 of 4 is reached at le=1 (the bucket
  // search asks for count >= rank), and the +Inf bucket holds nothing more. A search for
  // count > rank would find no bucket and answer the highest finite bound, 3.
  const std::vector<HistogramBucket> flat = {{1, 4}, {2, 4}, {3, 4}, {kInf, 4}};
  CHECK(histogram_quantile(1, flat) == 1);
  CHECK(histogram_quantile(0.5, flat) == 0.5);
  CHECK(histogram_quantile(0, flat) == 0);
  // The same past an empty first bucket: full at le=0.2, not at the last finite bound 0.4.
  const std::vector<HistogramBucket> late = {{0.1, 0}, {0.2, 4}, {0.4, 4}, {kInf, 4}};
  CHECK(histogram_quantile(1, late) == doctest::Approx(0.2).scale(0));
  CHECK(histogram_quantile(0.5, late) == doctest::Approx(0.15).scale(0));
}

TEST_CASE("histogram_quantile: degenerate inputs give NaN") {
  CHECK(std::isnan(histogram_quantile(0.5, {})));
  CHECK(std::isnan(histogram_quantile(0.5, {{kInf, 10}})));                     // fewer than 2
  CHECK(std::isnan(histogram_quantile(0.5, {{0.1, 5}, {0.2, 10}})));            // no +Inf bucket
  CHECK(std::isnan(histogram_quantile(0.5, {{0.1, 0}, {0.2, 0}, {kInf, 0}})));  // no observations
  // Two +Inf buckets coalesce into one, leaving fewer than 2.
  CHECK(std::isnan(histogram_quantile(0.5, {{kInf, 3}, {kInf, 4}})));
}

TEST_CASE("histogram_quantile: unsorted input, duplicate bounds and NaN bounds") {
  CHECK(histogram_quantile(0.6, {{kInf, 10}, {0.2, 7}, {0.1, 5}}) == doctest::Approx(0.15));
  // Duplicate upper bounds are added: {0.1: 5, 0.2: 7, +Inf: 10} again.
  CHECK(histogram_quantile(0.6, {{0.1, 2}, {0.2, 7}, {0.1, 3}, {kInf, 10}}) ==
        doctest::Approx(0.15));
  CHECK(histogram_quantile(0.6, {{0.1, 5}, {std::nan(""), 100}, {0.2, 7}, {kInf, 10}}) ==
        doctest::Approx(0.15));
}

TEST_CASE("histogram_quantile: lowest bucket with a non-positive upper bound") {
  const std::vector<HistogramBucket> h = {{-1, 5}, {0, 8}, {kInf, 10}};
  CHECK(histogram_quantile(0.3, h) == -1);                         // its upper bound
  CHECK(histogram_quantile(0.6, h) == doctest::Approx(-2.0 / 3));  // -1 + 1 * (1/3)
  // An empty lowest bucket at le=0, q=0: its bound, not an interpolation over 0 of 0 (NaN).
  CHECK(histogram_quantile(0, {{0, 0}, {1, 5}, {kInf, 5}}) == 0);
}

TEST_CASE("histogram_quantile: non-monotonic counts are fixed by the running maximum") {
  // Becomes {0.1: 5, 0.2: 5, 0.4: 8, +Inf: 8}.
  const std::vector<HistogramBucket> h = {{0.1, 5}, {0.2, 3}, {0.4, 8}, {kInf, 8}};
  CHECK(histogram_quantile(0.5, h) == doctest::Approx(0.08));  // 0.1 * 4/5
  CHECK(histogram_quantile(0.7, h) == doctest::Approx(0.24));  // 0.2 + 0.2 * 0.6/3
  // +Inf below the rest: the total becomes 9.
  CHECK(histogram_quantile(1, {{0.1, 5}, {0.2, 9}, {kInf, 2}}) == doctest::Approx(0.2));
}

namespace {

// Buckets written as `le` texts, parsed the way the scrape store parses them.
std::vector<HistogramBucket> parsed(std::initializer_list<std::pair<const char*, double>> list) {
  std::vector<HistogramBucket> out;
  for (const auto& [le, count] : list) {
    const auto bound = faultline::observe::parse_exposition_float(le);
    REQUIRE(bound);
    out.push_back({*bound, count});
  }
  return out;
}

}  // namespace

TEST_CASE("histogram_quantile: the cases of Prometheus' promql/testdata/histograms.test") {
  // testhistogram at 50m.
  const auto positive = parsed({{"0.1", 50}, {".2", 70}, {"1e0", 110}, {"+Inf", 120}});
  const auto negative = parsed({{"-.2", 10}, {"-0.1", 20}, {"0.3", 20}, {"+Inf", 30}});
  CHECK(histogram_quantile(0, positive) == 0);
  CHECK(histogram_quantile(0, negative) == -0.2);
  CHECK(histogram_quantile(1, positive) == 1);
  CHECK(histogram_quantile(1, negative) == 0.3);
  CHECK(histogram_quantile(0.2, positive) == doctest::Approx(0.048).epsilon(1e-12).scale(0));
  CHECK(histogram_quantile(0.2, negative) == -0.2);
  CHECK(histogram_quantile(0.5, positive) == doctest::Approx(0.15).epsilon(1e-12).scale(0));
  CHECK(histogram_quantile(0.5, negative) == doctest::Approx(-0.15).epsilon(1e-12).scale(0));
  CHECK(histogram_quantile(0.8, positive) == doctest::Approx(0.72).epsilon(1e-12).scale(0));
  CHECK(histogram_quantile(0.8, negative) == 0.3);
  // request_duration_seconds summed over jobs and instances, by le.
  const auto summed = parsed({{"0.1", 100}, {"0.2", 190}, {"+Inf", 250}});
  CHECK(histogram_quantile(0.3, summed) == doctest::Approx(0.075).epsilon(1e-12).scale(0));
  CHECK(histogram_quantile(0.5, summed) ==
        doctest::Approx(0.1277777777777778).epsilon(1e-12).scale(0));
  // Non-monotonic counts: 0.99 must land near 1, not near 1000.
  const auto nonmonotonic =
      parsed({{"0.1", 10}, {"1", 90}, {"10", 80}, {"100", 80}, {"1000", 90}, {"+Inf", 90}});
  CHECK(histogram_quantile(0.99, nonmonotonic) ==
        doctest::Approx(0.989875).epsilon(1e-12).scale(0));
  // One upper bound written four ways, and +inf next to +Inf.
  const auto mixed = parsed({{"0.1", 10}, {"0.2", 10}, {"2e-1", 10}, {"2.0e-1", 10}, {"+Inf", 40}});
  CHECK(histogram_quantile(0.5, mixed) == doctest::Approx(0.15).epsilon(1e-12).scale(0));
  CHECK(histogram_quantile(0.75, mixed) == doctest::Approx(0.2).epsilon(1e-12).scale(0));
  CHECK(histogram_quantile(1, mixed) == doctest::Approx(0.2).epsilon(1e-12).scale(0));
  CHECK(std::isnan(histogram_quantile(0.5, parsed({{"+inf", 0}, {"+Inf", 0}}))));
}

// ---------------------------------------------------------------------------------------------
// Oracle: Prometheus itself. Every case becomes a `promtool test rules` test whose expected
// value is ours; promtool reports each expression whose result differs, with what it got.

namespace {

struct OracleCase {
  std::string name;  // series name prefix, unique per case
  std::vector<HistogramBucket> buckets;
  std::vector<double> qs;
};

std::string expr_of(const OracleCase& c, double q) {
  return "histogram_quantile(" + PromtoolOracle::go_float(q) + ", " + c.name + "_bucket)";
}

// The cases: hand-picked shapes plus seeded random ones.
std::vector<OracleCase> oracle_cases() {
  const std::vector<double> qs = {0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};
  std::vector<OracleCase> cases = {
      {"simple", {{0.1, 5}, {0.2, 7}, {kInf, 10}}, qs},
      {"nonmono", {{0.1, 5}, {0.2, 3}, {0.4, 8}, {kInf, 8}}, qs},
      {"nonmono_inf", {{0.1, 5}, {0.2, 9}, {kInf, 2}}, qs},
      {"in_inf", {{0.005, 1}, {0.01, 2}, {kInf, 1000}}, qs},
      {"empty", {{0.1, 0}, {0.5, 0}, {kInf, 0}}, qs},
      {"only_inf", {{kInf, 12}}, qs},
      {"no_inf", {{0.1, 1}, {0.2, 2}}, qs},
      {"negative", {{-1, 5}, {0, 8}, {kInf, 10}}, qs},
      {"negative_first", {{-5, 2}, {-1, 5}, {2, 9}, {kInf, 10}}, qs},
      {"zero_first", {{0, 3}, {1, 6}, {kInf, 6}}, qs},
      {"zero_first_empty", {{0, 0}, {1, 5}, {kInf, 5}}, qs},
      {"fractional", {{0.025, 0.5}, {0.05, 1.25}, {0.1, 2.75}, {0.25, 3.5}, {kInf, 3.75}}, qs},
      {"nan_first", {{0.1, std::nan("")}, {0.2, 3}, {0.4, 5}, {kInf, 4}}, qs},
      {"flat", {{1, 4}, {2, 4}, {3, 4}, {kInf, 4}}, qs},
      {"weird_q", {{0.1, 5}, {0.2, 7}, {kInf, 10}}, {-1, 1.5, std::nan("")}},
  };
  Rng rng(20240611);
  for (int i = 0; i < 40; ++i) {
    OracleCase c;
    c.name = "rand" + std::to_string(i);
    c.qs = qs;
    const int n = static_cast<int>(rng.uniform_int(1, 12));
    double bound = rng.uniform01() < 0.2 ? -rng.uniform01() * 2 : 0;
    double count = 0;
    for (int b = 0; b < n; ++b) {
      bound += 0.001 + rng.uniform01() * (b + 1);
      const double added = std::floor(rng.uniform01() * 20);  // one draw per statement:
      count += added / (rng.uniform01() < 0.3 ? 4 : 1);       // the same on every compiler
      double reported = count;
      if (rng.uniform01() < 0.15) reported = std::max(0.0, count - rng.uniform_int(1, 10));
      c.buckets.push_back({bound, reported});
    }
    if (rng.uniform01() < 0.9) c.buckets.push_back({kInf, count + rng.uniform_int(0, 5)});
    cases.push_back(c);
  }
  return cases;
}

}  // namespace

TEST_CASE("histogram_quantile agrees with Prometheus' own (promtool test rules)") {
  PromtoolOracle oracle;
  for (const OracleCase& c : oracle_cases()) {
    std::vector<PromtoolOracle::Series> series;
    for (const HistogramBucket& b : c.buckets) {
      series.push_back({c.name + "_bucket{le=`" + PromtoolOracle::go_float(b.upper_bound) + "`}",
                        PromtoolOracle::go_float(b.count)});
    }
    oracle.group(series);
    for (double q : c.qs) oracle.expect(expr_of(c, q), 0, histogram_quantile(q, c.buckets));
  }
  CHECK(oracle.size() > 500);
  REQUIRE(oracle.run("histogram_quantile"));
}
