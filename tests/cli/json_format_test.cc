// --format json on every command that prints results: stdout holds exactly one JSON
// document (parsed back here), and what people read goes to stderr.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <string>

#include "cli_harness.h"

using faultline::testing::run_cli;
using faultline::testing::slurp;
using faultline::testing::TempDir;

namespace {

rapidjson::Document parsed(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  INFO(text);
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

std::string demo_bin() {
  return std::string(FAULTLINE_BINARY_DIR) + "/demo-services/faultline-demo";
}

}  // namespace

TEST_CASE("json: validate, plan and list print one document on stdout") {
  const auto v = run_cli("validate latency-tail --format json");
  CHECK(v.exit_code == 0);
  CHECK(parsed(v.out).IsArray());

  const auto p = run_cli("plan latency-tail --format json");
  CHECK(p.exit_code == 0);
  const auto plan = parsed(p.out);
  CHECK(plan["plan_hash"].GetStringLength() == 64);

  const auto l = run_cli("list --format json");
  REQUIRE(l.exit_code == 0);
  const auto list = parsed(l.out);
  REQUIRE(list.IsArray());
  bool found = false;
  for (const auto& e : list.GetArray()) {
    if (std::string(e["name"].GetString()) != "latency-tail") continue;
    found = true;
    CHECK(std::string(e["path"].GetString()) == "specs/latency-tail.yaml");
    CHECK(e["valid"].GetBool());
    CHECK(std::string(e["description"].GetString()).find("payment") != std::string::npos);
  }
  CHECK(found);
  CHECK(run_cli("list --format yaml").exit_code == 2);
}

TEST_CASE("json: run prints its artifact on stdout, judge its verdicts, both with text on stderr") {
  TempDir dir("cli-json-run");
  const auto r = run_cli(
      "run latency-tail --duration 12s --progress quiet --format json "
      "--artifacts " +
          (dir / "artifacts"),
      FAULTLINE_SOURCE_DIR, {{"FAULTLINE_DEMO_BIN", demo_bin()}});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto artifact = parsed(r.out);
  CHECK(std::string(artifact["status"].GetString()) == "passed");
  CHECK(r.err.find("\nresult: passed (exit 0)\nartifact: ") != std::string::npos);
  const std::string path = r.err.substr(
      r.err.find("\nartifact: ") + 11,
      r.err.find('\n', r.err.find("\nartifact: ") + 1) - r.err.find("\nartifact: ") - 11);
  CHECK(parsed(slurp(path)) == artifact);

  const auto j = run_cli("judge " + path + " --format json");
  CHECK(j.exit_code == 0);
  const auto judged = parsed(j.out);
  CHECK(judged["assertions"].Size() == 4);
  CHECK(j.err.find("result: passed") != std::string::npos);

  // Colour: on a terminal (script(1) gives one) unless NO_COLOR or --no-color; never in a pipe.
  const auto under_tty = [&](const std::string& env, const std::string& args) {
    TempDir capture("cli-tty");
    const std::string cmd = "cd '" + std::string(FAULTLINE_SOURCE_DIR) + "' && " + env +
                            " timeout 60 script -qec \"'" + std::string(FAULTLINE_CLI) + "' " +
                            args + "\" /dev/null > '" + (capture / "out") + "' 2>&1";
    CHECK(std::system(cmd.c_str()) == 0);
    return slurp(capture / "out");
  };
  const std::string coloured = under_tty("env -u NO_COLOR", "judge " + path);
  CHECK_MESSAGE(
      coloured.find("\033[1;32mPASS\033[0m during(trigger): p50 < 150ms") != std::string::npos,
      coloured);
  CHECK(under_tty("NO_COLOR=1", "judge " + path).find("\033[") == std::string::npos);
  CHECK(under_tty("env -u NO_COLOR", "judge " + path + " --no-color").find("\033[") ==
        std::string::npos);
  CHECK(j.err.find("\033[") == std::string::npos);

  // compare of a run with itself: the comparison on stdout.
  const auto c =
      run_cli("compare " + path + " " + path +
              " --no-spec-gates --gate \"during(trigger): p50 regresses by <= 300%\" --format json "
              "--artifacts " +
              (dir / "artifacts"));
  CHECK_MESSAGE(c.exit_code == 0, c.err);
  const auto comparison = parsed(c.out);
  CHECK(comparison["gates"].Size() == 1);
  CHECK(c.err.find("comparison: ") != std::string::npos);
}

TEST_CASE("json and summary: matrix prints matrix.json on stdout and a Markdown table") {
  TempDir dir("cli-json-matrix");
  const std::string summary = dir / "matrix.md";
  const auto r = run_cli(
      "matrix tests/matrix/specs/quick.yaml --cell quick-errors.local.s1 "
      "--format json --summary " +
          summary + " --artifacts " + (dir / "artifacts"),
      FAULTLINE_SOURCE_DIR, {{"FAULTLINE_DEMO_BIN", demo_bin()}});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const auto m = parsed(r.out);
  REQUIRE(m["cells"].Size() == 1);
  CHECK(r.err.find("\nsummary: " + summary + "\n") != std::string::npos);
  const std::string md = slurp(summary);
  CHECK(md.rfind("### faultline matrix quick: ✅ passed\n", 0) == 0);
  CHECK(md.find("| ✅ passed | quick-errors.local.s1 | pass | 1/1 | no | ") != std::string::npos);
}
