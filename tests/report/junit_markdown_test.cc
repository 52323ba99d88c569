// JUnit XML (report/junit.h) and Markdown summaries (report/markdown.h) of a run report built
// by hand: every assertion and a fired abort_if become test cases, what they contain is
// escaped (the XML is read back through xmllint's XPath), and the "look first at" line names
// the first failure.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "report/junit.h"
#include "report/markdown.h"
#include "report/summary.h"
#include "temp_dir.h"

namespace faultline {
namespace {

AssertionReport assertion(std::string text, judge::VerdictStatus status, std::string display,
                          int line) {
  AssertionReport a;
  a.text = std::move(text);
  a.status = status;
  a.window = "during(trigger)";
  a.window_start = std::chrono::seconds(10);
  a.window_end = std::chrono::seconds(35);
  a.message = status == judge::VerdictStatus::kPass ? "" : "p95 was " + display;
  a.source = "specs/x.yaml:" + std::to_string(line) + ":5";
  ObservedValue o;
  o.what = "p95(route=orders)";
  o.window = "during(trigger)";
  o.value = 0.1;
  o.display = std::move(display);
  o.samples = 130;
  a.observed.push_back(o);
  return a;
}

RunReport hand_made_report() {
  RunReport r;
  r.scenario = "x";
  r.status = RunStatus::kAborted;
  r.exit_code = 1;
  r.started_at = "2026-01-02T03:04:05Z";
  r.actual_duration = std::chrono::milliseconds(12500);
  r.assertions = {
      assertion("during(trigger): p95(route=orders) > 800ms", judge::VerdictStatus::kPass, "900ms",
                30),
      assertion("during(trigger): p95 < 5ms & \"quoted\" <tag> | pipe", judge::VerdictStatus::kFail,
                "12ms <&\"'>", 31),
      assertion("during(trigger): p50 < 1s", judge::VerdictStatus::kInconclusive, "1ms", 32)};
  r.abort_condition = "during(trigger): error_rate > 50%";
  r.aborted_at = std::chrono::seconds(20);
  r.status_detail = "abort_if fired";
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST_CASE("junit: one case per assertion and per fired abort, failures typed by verdict") {
  const junit::TestSuite s = run_junit_suite(hand_made_report(), "artifacts/a.json");
  REQUIRE(s.cases.size() == 4);
  CHECK(s.cases[0].outcome == junit::TestCase::Outcome::kPassed);
  CHECK(s.cases[1].outcome == junit::TestCase::Outcome::kFailure);
  CHECK(s.cases[1].type == "fail");
  CHECK(s.cases[2].outcome == junit::TestCase::Outcome::kFailure);
  CHECK(s.cases[2].type == "inconclusive");
  CHECK(s.cases[3].name == "abort_if: during(trigger): error_rate > 50%");
  CHECK(s.cases[3].type == "abort");
  CHECK(s.time_s == doctest::Approx(12.5));
  // An environment error is one case in error, so CI never shows such a run as green.
  RunReport env;
  env.scenario = "y";
  env.status = RunStatus::kEnvironmentError;
  env.status_detail = "service api did not start";
  const junit::TestSuite e = run_junit_suite(env, "");
  REQUIRE(e.cases.size() == 1);
  CHECK(e.cases[0].outcome == junit::TestCase::Outcome::kError);
  CHECK(e.cases[0].message == "service api did not start");
}

TEST_CASE("junit: xml_escape covers the five entities and control characters") {
  CHECK(junit::xml_escape("a<b>&\"c'\x01\t") == "a&lt;b&gt;&amp;&quot;c&apos;?\t");
}

#ifdef XMLLINT
TEST_CASE("junit: the XML is well formed and reads back through XPath") {
  testing::TempDir dir("report-junit");
  const std::string path = dir / "junit.xml";
  std::ofstream(path) << junit::to_xml("faultline x",
                                       run_junit_suite(hand_made_report(), "artifacts/a.json"));
  CHECK(std::system((std::string(XMLLINT) + " --noout " + path).c_str()) == 0);
  const std::string out = dir / "xpath.txt";
  const std::string q = std::string(XMLLINT) +
                        " --xpath 'concat(//testsuite/@tests, \" \", //testsuite/@failures, \" \", "
                        "count(//testcase[properties/property[@name=\"source\"]]), \" \", "
                        "//testcase[2]/properties/property[@name=\"observed\"]/@value, \" | \", "
                        "//testcase[2]/@name)' " +
                        path + " > " + out;
  REQUIRE(std::system(q.c_str()) == 0);
  CHECK(slurp(out) ==
        "4 3 3 p95(route=orders) = 12ms <&\"'> (n=130) | during(trigger): p95 < 5ms & "
        "\"quoted\" <tag> | pipe\n");
}
#endif

TEST_CASE("look first at: the abort, else the first failure, else the first inconclusive") {
  RunReport r = hand_made_report();
  CHECK(look_first_at(r) == "abort_if during(trigger): error_rate > 50% fired at 20s");
  r.abort_condition.clear();
  r.status = RunStatus::kFailed;
  CHECK(look_first_at(r) ==
        "FAIL during(trigger): p95 < 5ms & \"quoted\" <tag> | pipe, observed p95(route=orders) "
        "= 12ms <&\"'> (n=130) (specs/x.yaml:31:5)");
  r.assertions.erase(r.assertions.begin() + 1);
  CHECK(look_first_at(r).rfind("INCONCLUSIVE during(trigger): p50 < 1s", 0) == 0);
  r.assertions.pop_back();
  CHECK(look_first_at(r).empty());
}

TEST_CASE("markdown: the run summary keeps its tables whole") {
  const std::string md =
      run_summary_markdown(hand_made_report(), {{"artifact", "artifacts/a.json"}});
  CHECK(md.rfind("### faultline run x: ❌ aborted (exit 1)\n", 0) == 0);
  CHECK(md.find("| ❌ fail | `during(trigger): p95 < 5ms & \"quoted\" <tag> \\| pipe` | "
                "p95(route=orders) = 12ms <&\"'> (n=130) | during(trigger) 10s..35s | "
                "specs/x.yaml:31:5 |\n") != std::string::npos);
  CHECK(md.find("**abort_if fired** at 20s") != std::string::npos);
  CHECK(md.find("- artifact: `artifacts/a.json`\n") != std::string::npos);
  CHECK(markdown::cell("a|b\nc") == "a\\|b c");
}

}  // namespace
}  // namespace faultline
