// faultline matrix end to end: tests/matrix/specs/quick.yaml (two short incidents at two seeds
// and their negative controls: 8 cells, 4 expected to fail) with --jobs 2 against the demo
// services. Checks the exit code, the summary table, the matrix artifact against its schema
// and the run artifacts it links, and the JUnit XML with xmllint and by reading it back.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <rapidjson/document.h>

#include "faultline_runs.h"
#include "report_schema.h"

namespace faultline::testing {
namespace {

std::string xpath(const std::string& file, const std::string& expr, const std::string& dir) {
  const std::string out = dir + "/xpath.txt";
  const std::string cmd =
      std::string(XMLLINT) + " --xpath '" + expr + "' " + file + " > " + out + " 2>&1";
  CHECK(std::system(cmd.c_str()) == 0);
  std::string text = read_file(out);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string line_with(const std::string& text, const std::string& start) {
  const size_t pos = text.find("\n" + start);
  if (pos == std::string::npos) return {};
  return text.substr(pos + 1, text.find('\n', pos + 1) - pos - 1);
}

TEST_CASE("a matrix of 8 cells with negative controls runs with --jobs 2 and reports it") {
  TempDir dir("matrix-e2e");
  const std::string junit = dir / "junit.xml";
  Run r =
      run_faultline_in({"matrix", "tests/matrix/specs/quick.yaml", "--jobs", "2", "--junit", junit},
                       dir.path(), std::chrono::seconds(90));
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("8 of 8 cells met their expect, 0 flaky") != std::string::npos);
  const std::string row = line_with(r.output, "quick-latency-no-fault.local.s2 ");
  CHECK(row.find(" fail ") != std::string::npos);
  CHECK(row.find(" met ") != std::string::npos);
  CHECK(row.find(" 0/1 ") != std::string::npos);

  // The matrix artifact, its schema and the run artifacts it links.
  const std::string report_line = line_with(r.output, "matrix artifact: ");
  REQUIRE(!report_line.empty());
  const std::string report_path = report_line.substr(17);
  const std::string json = read_file(report_path);
  CHECK(schema_problem("matrix-report.schema.json", json) == "");
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  REQUIRE(doc.IsObject());
  CHECK(doc["summary"]["cells"].GetInt() == 8);
  CHECK(doc["summary"]["met"].GetInt() == 8);
  int controls = 0;
  std::set<uint64_t> seeds;
  for (const auto& c : doc["cells"].GetArray()) {
    const bool control = std::string(c["expect"].GetString()) == "fail";
    controls += control;
    seeds.insert(c["seed"].GetUint64());
    const auto& run = c["runs"][0];
    CHECK(run["exit_code"].GetInt() == (control ? 1 : 0));
    const std::string artifact = run["artifact"].GetString();
    REQUIRE(std::filesystem::exists(artifact));
    const std::string run_json = read_file(artifact);
    CHECK(report_schema_problem(run_json) == "");
    rapidjson::Document rd;
    rd.Parse(run_json.c_str());
    // The run used the cell's derived seed.
    CHECK(run_json.find(std::to_string(c["seed"].GetUint64())) != std::string::npos);
    if (control) CHECK(run["failed_assertions"].Size() > 0);
  }
  CHECK(controls == 4);
  CHECK(seeds.size() == 8);

  // JUnit XML: well formed, one testcase per cell, no failures.
  const std::string lint = std::string(XMLLINT) + " --noout " + junit;
  CHECK(std::system(lint.c_str()) == 0);
  CHECK(xpath(junit, "string(//testsuite/@tests)", dir.path()) == "8");
  CHECK(xpath(junit, "count(//testcase)", dir.path()) == "8");
  CHECK(xpath(junit, "count(//failure) + count(//error)", dir.path()) == "0");
  CHECK(xpath(junit,
              "string(//testcase[@name=\"quick-errors-no-fault.local.s1\"]/properties/"
              "property[@name=\"expect\"]/@value)",
              dir.path()) == "fail");
}

TEST_CASE("a cell that misses its expect fails the matrix and JUnit names the assertions") {
  TempDir dir("matrix-e2e-unmet");
  // The negative control run alone, with an expect flipped by a matrix of its own.
  const std::string file = dir / "flip.yaml";
  std::ofstream(file) << "version: 1\nname: flip\nseed: 3\naxes:\n  scenario: ["
                      << FAULTLINE_SOURCE_DIR
                      << "/tests/matrix/specs/quick-errors-no-fault.yaml]\n  env: ["
                      << FAULTLINE_SOURCE_DIR << "/envs/local.yaml]\n";
  const std::string junit = dir / "junit.xml";
  Run r =
      run_faultline_in({"matrix", file, "--junit", junit}, dir.path(), std::chrono::seconds(60));
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("0 of 1 cells met their expect") != std::string::npos);
  const std::string lint = std::string(XMLLINT) + " --noout " + junit;
  CHECK(std::system(lint.c_str()) == 0);
  const std::string message = xpath(junit, "string(//testcase/failure/@message)", dir.path());
  CHECK(message.find("expected pass, 1 of 1 runs did not pass; FAIL "
                     "during(trigger): error_rate(route=orders) > 10%") == 0);
}

TEST_CASE("--list --format json is stable and --cell refuses an unknown ID") {
  TempDir dir("matrix-list");
  Run a =
      run_faultline_in({"matrix", "tests/matrix/specs/quick.yaml", "--list", "--format", "json"},
                       dir.path(), std::chrono::seconds(30));
  Run b =
      run_faultline_in({"matrix", "tests/matrix/specs/quick.yaml", "--list", "--format", "json"},
                       dir.path(), std::chrono::seconds(30));
  CHECK(a.exit_code == 0);
  CHECK(a.output == b.output);
  rapidjson::Document doc;
  doc.Parse(a.output.c_str());
  REQUIRE(doc.IsObject());
  REQUIRE(doc["cells"].Size() == 8);
  const auto& c = doc["cells"][0];
  CHECK(std::string(c["id"].GetString()) == "quick-errors.local.s1");
  CHECK(std::string(c["argv"][0].GetString()) == "faultline");
  CHECK(std::string(c["argv"][c["argv"].Size() - 1].GetString()) ==
        std::to_string(c["seed"].GetUint64()));
  Run bad = run_faultline_in({"matrix", "tests/matrix/specs/quick.yaml", "--cell", "nope.s1"},
                             dir.path(), std::chrono::seconds(30));
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.find("no cell nope.s1") != std::string::npos);
}

}  // namespace
}  // namespace faultline::testing
