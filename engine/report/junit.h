// JUnit XML, the format CI systems read test results from: one <testsuite> of <testcase>s,
// each passed, failed, in error or skipped, with properties. One writer (and one XML escape)
// serves every command that writes it: run, judge and merge (a case per assertion and per
// abort condition that fired, run_junit_suite below), compare (a case per gate) and matrix
// (a case per cell).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report/report.h"

namespace faultline::junit {

// Text safe inside an XML 1.0 attribute or element: the five special characters as
// entities; control characters XML 1.0 cannot hold (all but tab, newline, CR) as '?'.
std::string xml_escape(std::string_view text);

struct TestCase {
  enum class Outcome { kPassed, kFailure, kError, kSkipped };
  std::string classname, name;
  double time_s = 0;
  std::vector<std::pair<std::string, std::string>> properties;  // in this order
  Outcome outcome = Outcome::kPassed;
  // Not kPassed: the element's message and type attributes and its text.
  std::string message, type, body;
};

struct TestSuite {
  std::string name;
  std::string timestamp;  // ISO-8601, "" to leave it out
  double time_s = 0;
  std::vector<TestCase> cases;
};

// <testsuites name=SUITES_NAME ...> holding `suite`, with tests/failures/errors/skipped
// counts and times on both elements.
std::string to_xml(const std::string& suites_name, const TestSuite& suite);

}  // namespace faultline::junit

namespace faultline {

// A run's results as a suite named after its scenario: one case per assertion (verdict,
// observed values, window and source line as properties; failed and inconclusive ones fail),
// one failed case per abort_if condition that fired, and one case in error when the run
// ended in an environment error or was interrupted, so CI never reads such a run as green.
junit::TestSuite run_junit_suite(const RunReport& report, const std::string& artifact);

// The observed values of an assertion in one line: "p95(route=orders) = 812ms (n=130)".
std::string observed_text(const AssertionReport& assertion);

}  // namespace faultline
