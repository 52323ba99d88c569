#include "observe/histogram_quantile.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/rng.h"

using faultline::Rng;
using faultline::observe::histogram_quantile;
using faultline::observe::HistogramBucket;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

bool same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

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
}

TEST_CASE("histogram_quantile: non-monotonic counts are fixed by the running maximum") {
  // Becomes {0.1: 5, 0.2: 5, 0.4: 8, +Inf: 8}.
  const std::vector<HistogramBucket> h = {{0.1, 5}, {0.2, 3}, {0.4, 8}, {kInf, 8}};
  CHECK(histogram_quantile(0.5, h) == doctest::Approx(0.08));  // 0.1 * 4/5
  CHECK(histogram_quantile(0.7, h) == doctest::Approx(0.24));  // 0.2 + 0.2 * 0.6/3
  // +Inf below the rest: the total becomes 9.
  CHECK(histogram_quantile(1, {{0.1, 5}, {0.2, 9}, {kInf, 2}}) == doctest::Approx(0.2));
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

std::string go_float(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string yaml_float(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  return go_float(v);
}

std::string expr_of(const OracleCase& c, double q) {
  return "histogram_quantile(" + go_float(q) + ", " + c.name + "_bucket)";
}

std::string run_and_capture(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
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
      count += std::floor(rng.uniform01() * 20) / (rng.uniform01() < 0.3 ? 4 : 1);
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
  const char* promtool = "/usr/bin/promtool";
  if (!std::filesystem::exists(promtool)) {
    MESSAGE(
        "SKIPPED: /usr/bin/promtool is missing (Debian package `prometheus`); the oracle "
        "comparison did not run");
    return;
  }
  const std::vector<OracleCase> cases = oracle_cases();
  std::map<std::string, double> ours;  // expr -> our value
  std::ostringstream yaml;
  yaml << "rule_files: []\nevaluation_interval: 1m\ntests:\n";
  for (const OracleCase& c : cases) {
    yaml << "  - interval: 1m\n    input_series:\n";
    for (const HistogramBucket& b : c.buckets) {
      yaml << "      - series: '" << c.name << "_bucket{le=\"" << go_float(b.upper_bound)
           << "\"}'\n        values: '" << go_float(b.count) << "'\n";
    }
    yaml << "    promql_expr_test:\n";
    for (double q : c.qs) {
      const double v = histogram_quantile(q, c.buckets);
      ours[expr_of(c, q)] = v;
      yaml << "      - expr: '" << expr_of(c, q) << "'\n        eval_time: 0\n"
           << "        exp_samples:\n          - labels: '{}'\n            value: " << yaml_float(v)
           << "\n";
    }
  }
  const std::filesystem::path dir =
      std::filesystem::path(FAULTLINE_BINARY_DIR) / "tests" / "observe" / "promtool-oracle";
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / "histogram_quantile_test.yml";
  std::ofstream(file) << yaml.str();

  const std::string out =
      run_and_capture(std::string(promtool) + " test rules " + file.string() + " 2>&1");
  // promtool prints, for each expression whose result is not the expected one:
  //     expr: "histogram_quantile(0.5, x_bucket)", time: 0s,
  //         exp: {} 1.5E-01
  //         got: {} 2E-01
  // Go's NaN never equals itself there, so an expected NaN is listed too; we compare what it
  // got with what we computed.
  std::istringstream lines(out);
  std::string line, expr;
  size_t reported = 0, mismatches = 0;
  while (std::getline(lines, line)) {
    if (auto p = line.find("expr: \""); p != std::string::npos) {
      expr = line.substr(p + 7, line.find('"', p + 7) - p - 7);
    } else if (auto g = line.find("got: {} "); g != std::string::npos) {
      ++reported;
      const double got = std::strtod(line.c_str() + g + 8, nullptr);
      REQUIRE(ours.count(expr) == 1);
      if (!same(got, ours[expr])) {
        ++mismatches;
        FAIL_CHECK("promtool got " << got << " for " << expr << ", we computed " << ours[expr]);
      }
    } else if (line.find("got: ") != std::string::npos) {
      FAIL_CHECK("promtool returned no single sample for " << expr << ": " << line);
    }
  }
  // Everything promtool did not list matched exactly; every NaN of ours must have been listed
  // (and found equal above), which also shows the output was understood.
  size_t our_nans = 0;
  for (const auto& [e, v] : ours) our_nans += std::isnan(v) ? 1 : 0;
  CHECK(reported == our_nans);
  CHECK(mismatches == 0);
  CHECK(ours.size() > 500);
  MESSAGE("promtool oracle: " << ours.size() << " expressions, " << our_nans << " NaN");
}
