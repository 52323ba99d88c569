#include "promtool_oracle.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace faultline::observe::testing {

namespace {

constexpr const char* kPromtool = "/usr/bin/promtool";

std::string yaml_float(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  return PromtoolOracle::go_float(v);
}

// How promtool prints an evaluation time of whole minutes (Prometheus' model.Duration).
std::string go_duration(int minutes) {
  if (minutes == 0) return "0s";
  std::string out;
  if (minutes >= 60) out += std::to_string(minutes / 60) + "h";
  if (minutes % 60) out += std::to_string(minutes % 60) + "m";
  return out;
}

bool same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
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

}  // namespace

std::string PromtoolOracle::go_float(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void PromtoolOracle::group(const std::vector<Series>& series) {
  yaml_ << "  - interval: 1m\n    input_series:\n";
  for (const Series& s : series) {
    yaml_ << "      - series: '" << s.selector << "'\n        values: '" << s.values << "'\n";
  }
  yaml_ << "    promql_expr_test:\n";
}

void PromtoolOracle::expect(const std::string& expr, int eval_minutes, double ours,
                            double relative_tolerance) {
  const std::string key = expr + " @ " + go_duration(eval_minutes);
  REQUIRE_MESSAGE(ours_.count(key) == 0, "expression used twice: " << key);
  ours_[key] = {ours, relative_tolerance};
  yaml_ << "      - expr: '" << expr << "'\n        eval_time: " << eval_minutes << "m"
        << "\n        exp_samples:\n          - labels: '{}'\n            value: "
        << yaml_float(ours) << "\n";
}

bool PromtoolOracle::run(const std::string& name) {
  if (!std::filesystem::exists(kPromtool)) {
    FAIL_CHECK(std::string(kPromtool)
               << " is missing (install the Debian package `prometheus`, "
               << "see scripts/install-deps): the " << name << " oracle comparison cannot run");
    return false;
  }
  const std::filesystem::path dir =
      std::filesystem::path(FAULTLINE_BINARY_DIR) / "tests" / "observe" / "promtool-oracle";
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / (name + ".yml");
  std::ofstream(file) << "rule_files: []\nevaluation_interval: 1m\ntests:\n" << yaml_.str();

  const std::string out =
      run_and_capture(std::string(kPromtool) + " test rules " + file.string() + " 2>&1");
  // For each expression whose result is not the expected one, promtool prints:
  //     expr: "histogram_quantile(0.5, x_bucket)", time: 2m0s,
  //         exp: {} 1.5E-01
  //         got: {} 2E-01
  std::istringstream lines(out);
  std::string line, expr;
  size_t reported_nans = 0;
  while (std::getline(lines, line)) {
    if (auto p = line.find("expr: \""); p != std::string::npos) {
      const size_t end = line.find('"', p + 7);
      const size_t time = line.find("time: ", end);
      expr = line.substr(p + 7, end - p - 7) + " @ " +
             line.substr(time + 6, line.find(',', time) - time - 6);
    } else if (auto g = line.find("got: {} "); g != std::string::npos) {
      const double got = std::strtod(line.c_str() + g + 8, nullptr);
      REQUIRE_MESSAGE(ours_.count(expr) == 1, "promtool reported an unknown expression: " << expr);
      const Expected& ours = ours_[expr];
      reported_nans += std::isnan(got) ? 1 : 0;
      if (!same(got, ours.value) &&
          !(std::abs(got - ours.value) <= ours.relative_tolerance * std::abs(got))) {
        FAIL_CHECK("promtool got " << got << " for " << expr << ", we computed " << ours.value);
      }
    } else if (line.find("got: ") != std::string::npos) {
      FAIL_CHECK("promtool returned no single sample for " << expr << ": " << line);
    } else if (line.find("error") != std::string::npos || line.find("Error") != std::string::npos) {
      FAIL_CHECK("promtool: " << line);
    }
  }
  // Every expression promtool did not list matched exactly. Every NaN of ours must have been
  // listed (and compared above), which also shows that its output was understood.
  size_t our_nans = 0;
  for (const auto& [e, v] : ours_) our_nans += std::isnan(v.value) ? 1 : 0;
  CHECK(reported_nans == our_nans);
  MESSAGE("promtool oracle " << name << ": " << ours_.size() << " expressions (" << our_nans
                             << " NaN) checked");
  return true;
}

}  // namespace faultline::observe::testing
