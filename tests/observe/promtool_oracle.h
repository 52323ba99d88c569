// PromtoolOracle: checks values we computed against Prometheus' own PromQL engine. Each
// expression becomes a `promtool test rules` case expecting our value; promtool lists every
// expression whose result differs (and every NaN, which never equals itself in its
// comparison) with what it got, and each listed value is compared with ours.
//
// An (expression, evaluation time) pair must be unique in one run (use distinct metric names
// per group), and PromQL strings should be quoted with backticks so promtool prints them
// unescaped.
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace faultline::observe::testing {

class PromtoolOracle {
 public:
  struct Series {
    std::string selector;  // h_bucket{le=`0.1`}
    std::string values;    // promtool's notation: "0 5 9" at the group's 1m interval
  };

  // Starts a test group (interval 1m) with its own input series.
  void group(const std::vector<Series>& series);
  // An expression of the current group, evaluated `eval_minutes` after the first sample, and
  // our value for it: equal, or within `relative_tolerance` (for sums whose rounding order
  // differs from PromQL's, such as a sum of rates against a rate of sums).
  void expect(const std::string& expr, int eval_minutes, double ours,
              double relative_tolerance = 0);
  // Runs promtool and doctest-checks every expression. Returns false, after failing the test
  // with the reason, when the comparison could not be made (/usr/bin/promtool missing, from
  // Debian's `prometheus`): a missing oracle is a failure, never a pass. Callers REQUIRE it.
  [[nodiscard]] bool run(const std::string& name);

  size_t size() const { return ours_.size(); }

  // %.17g, NaN and +Inf/-Inf as PromQL and promtool's series notation write them.
  static std::string go_float(double v);

 private:
  std::ostringstream yaml_;
  struct Expected {
    double value;
    double relative_tolerance;
  };
  std::map<std::string, Expected> ours_;  // "<expression> @ <evaluation time>" -> ours
};

}  // namespace faultline::observe::testing
