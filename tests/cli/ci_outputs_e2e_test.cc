// --junit and --summary of run, judge and compare against the demo services: the JUnit XML
// reads back through xmllint (a case per assertion, per fired abort_if, per gate), the
// Markdown goes to --summary and is appended to $GITHUB_STEP_SUMMARY, the closing lines name
// the files, and "html:" appears only when an HTML report exists beside the artifact.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli_harness.h"
#include "faultline_runs.h"

namespace faultline::testing {
namespace {

// Sets an environment variable for the children started while it lives.
struct ScopedEnv {
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { unsetenv(name_); }
  const char* name_;
};

// xmllint's answer to an XPath expression over `file`.
std::string xpath(const std::string& file, const std::string& expr, const TempDir& dir) {
  const std::string out = dir / "xpath.out";
  const std::string cmd =
      std::string(XMLLINT) + " --xpath '" + expr + "' '" + file + "' > '" + out + "' 2>&1";
  CHECK(std::system(cmd.c_str()) == 0);
  std::string text = slurp(out);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// A copy of specs/latency-tail.yaml with `from` replaced by `to` (each must occur).
std::string edited_spec(const TempDir& dir,
                        const std::vector<std::pair<std::string, std::string>>& edits) {
  std::string text = slurp(std::string(FAULTLINE_SOURCE_DIR) + "/specs/latency-tail.yaml");
  for (const auto& [from, to] : edits) {
    const size_t at = text.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, from);
    text.replace(at, from.size(), to);
  }
  const std::string path = dir / "latency-tail.yaml";
  std::ofstream(path) << text;
  return path;
}

TEST_CASE("ci outputs: a passing run writes JUnit, a summary, and appends the step summary") {
  TempDir dir("cli-ci-run");
  const std::string junit = dir / "out/junit.xml";
  const std::string summary = dir / "out/summary.md";
  const std::string step = dir / "step-summary.md";
  std::ofstream(step) << "earlier step\n";
  Run r;
  {
    ScopedEnv env("GITHUB_STEP_SUMMARY", step);
    r = run_faultline_in({"run", "latency-tail", "--duration", "12s", "--progress", "quiet",
                          "--junit", junit, "--summary", summary},
                         dir.path());
  }
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.find("\njunit: " + junit + "\n") != std::string::npos);
  CHECK(r.output.find("\nsummary: " + summary + ", " + step + "\n") != std::string::npos);
  // The HTML report beside the artifact, named with the other outputs.
  const std::string html = r.artifact.substr(0, r.artifact.size() - 5) + ".html";
  CHECK(r.output.find("\nhtml: " + html + "\n") != std::string::npos);
  CHECK(std::filesystem::is_regular_file(html));
  CHECK(r.output.find("look first at") == std::string::npos);

  CHECK(xpath(junit,
              "concat(//testsuite/@tests, \" \", //testsuite/@failures, \" \", "
              "count(//testcase[properties/property[@name=\"verdict\"][@value=\"pass\"]]"
              "[properties/property[@name=\"observed\"]][properties/property[@name=\"window\"]]"
              "[properties/property[@name=\"source\"]]))",
              dir) == "4 0 4");
  CHECK(xpath(junit, "string(//testcase[1]/properties/property[@name=\"source\"]/@value)", dir) ==
        "specs/latency-tail.yaml:61:6");

  const std::string md = slurp(summary);
  CHECK(md.rfind("### faultline run latency-tail: ✅ passed (exit 0)\n", 0) == 0);
  CHECK(md.find("| ✅ pass | `during(trigger): p95(route=orders) > 800ms` | p95(route=orders) = ") !=
        std::string::npos);
  CHECK(md.find("- junit: `" + junit + "`") != std::string::npos);
  CHECK(slurp(step) == "earlier step\n" + md + "\n");

  // judge names the HTML report beside the artifact too.
  const auto judged = run_cli("judge " + r.artifact + " --junit " + (dir / "judge.xml"));
  CHECK_MESSAGE(judged.exit_code == 0, (judged.out + judged.err));
  CHECK(judged.out.find("\nhtml: " + html + "\n") != std::string::npos);
  CHECK(xpath(dir / "judge.xml", "string(//testsuite/@tests)", dir) == "4");
}

TEST_CASE("ci outputs: failed assertions and a fired abort_if are failures, looked at first") {
  TempDir dir("cli-ci-fail");
  const std::string spec =
      edited_spec(dir, {{"\"during(warmup): p95 < 300ms\"", "\"during(warmup): p95 < 1us\""},
                        {"\"overall: error_rate > 50%\"", "\"during(trigger): p99 > 1s\""}});
  const std::string junit = dir / "junit.xml";
  const Run r = run_faultline_in(
      {"run", spec, "--duration", "12s", "--progress", "quiet", "--junit", junit}, dir.path());
  CHECK_MESSAGE(r.exit_code == 1, r.output);
  CHECK(r.status() == "aborted");
  CHECK_MESSAGE(r.output.find("\nlook first at: abort_if during(trigger): p99 > 1s fired at ") !=
                    std::string::npos,
                r.output);
  CHECK(xpath(junit,
              "concat(//testcase[@name=\"during(warmup): p95 < 1us\"]/failure/@type, \" \", "
              "//testcase[@name=\"abort_if: during(trigger): p99 > 1s\"]/failure/@type)",
              dir) == "fail abort");
}

TEST_CASE("ci outputs: compare writes one JUnit case per gate and a summary") {
  TempDir dir("cli-ci-compare");
  for (const char* tag : {"before", "after"}) {
    const Run r = run_faultline_in(
        {"run", "latency-tail", "--duration", "12s", "--progress", "quiet", "--tag", tag},
        dir.path());
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  }
  const std::string junit = dir / "compare.xml";
  const std::string summary = dir / "compare.md";
  const Run c = run_faultline_in({"compare", "latency-tail", "--no-spec-gates", "--gate",
                                  "during(trigger): p50 regresses by <= 300%", "--gate",
                                  "during(trigger): p95(route=orders) improves by >= 90%",
                                  "--junit", junit, "--summary", summary},
                                 dir.path());
  CHECK_MESSAGE(c.exit_code == 1, c.output);
  CHECK(c.output.find("\nlook first at: FAIL during(trigger): p95(route=orders) improves by >= "
                      "90%, ") != std::string::npos);
  CHECK(xpath(junit,
              "concat(//testsuite/@tests, \" \", //testsuite/@failures, \" \", "
              "//testcase[failure]/@name)",
              dir) == "2 1 during(trigger): p95(route=orders) improves by >= 90%");
  const std::string md = slurp(summary);
  CHECK(md.rfind("### faultline compare latency-tail: ❌ failed\n", 0) == 0);
  CHECK(md.find("| ✅ pass | `during(trigger): p50 regresses by <= 300%` |") != std::string::npos);
}

}  // namespace
}  // namespace faultline::testing
