// The matrix stage without running anything: cells from axes, exclude and include, IDs,
// derived seeds, expect rules, the run argv, schema errors at file:line:col, and the outputs
// (matrix artifact against its schema, JUnit XML through xmllint) of a result built by hand.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "common/file_io.h"
#include "matrix/matrix.h"
#include "matrix/matrix_run.h"
#include "report_schema.h"
#include "spec/loader.h"
#include "temp_dir.h"

namespace faultline::matrix {
namespace {

Matrix load_ok(const std::string& text) {
  MatrixLoad load = load_matrix_text(text, "m/x.yaml");
  for (const auto& d : load.diagnostics) INFO(format_diagnostic(d, false));
  REQUIRE(load.ok());
  return *load.matrix;
}

std::vector<std::string> ids(const Matrix& m) {
  std::vector<std::string> out;
  for (const auto& c : m.cells) out.push_back(c.id);
  return out;
}

const Cell& cell(const Matrix& m, const std::string& id) {
  for (const auto& c : m.cells)
    if (c.id == id) return c;
  FAIL("no cell " << id);
  return m.cells.front();
}

const char* kProduct = R"(version: 1
name: t
seed: 7
axes:
  scenario: [../specs/a.yaml, ../specs/b.yaml]
  env: [../envs/local.yaml]
  set:
    LATENCY: [0ms, 500ms]
  seed: [1, 2]
)";

TEST_CASE("cells are the product of the axes with stable IDs, last axis fastest") {
  const Matrix m = load_ok(kProduct);
  CHECK(ids(m) == std::vector<std::string>{"a.local.LATENCY=0ms.s1", "a.local.LATENCY=0ms.s2",
                                           "a.local.LATENCY=500ms.s1", "a.local.LATENCY=500ms.s2",
                                           "b.local.LATENCY=0ms.s1", "b.local.LATENCY=0ms.s2",
                                           "b.local.LATENCY=500ms.s1", "b.local.LATENCY=500ms.s2"});
  const Cell& c = cell(m, "b.local.LATENCY=500ms.s2");
  CHECK(c.spec_path == "specs/b.yaml");
  CHECK(c.env_path == "envs/local.yaml");
  CHECK(c.expect == Expect::kPass);
  REQUIRE(c.seed.has_value());
  CHECK(c.run_argv() == std::vector<std::string>{"faultline", "run", "specs/b.yaml", "--env",
                                                 "envs/local.yaml", "--set", "LATENCY=500ms",
                                                 "--seed", std::to_string(*c.seed)});
}

TEST_CASE("derived seeds are stable, distinct per cell and follow the matrix seed") {
  const Matrix m1 = load_ok(kProduct);
  const Matrix m2 = load_ok(kProduct);
  std::set<uint64_t> seeds;
  for (size_t i = 0; i < m1.cells.size(); ++i) {
    CHECK(m1.cells[i].seed == m2.cells[i].seed);
    seeds.insert(*m1.cells[i].seed);
    CHECK(*m1.cells[i].seed < (uint64_t{1} << 53));
  }
  CHECK(seeds.size() == m1.cells.size());
  std::string other = kProduct;
  other.replace(other.find("seed: 7"), 7, "seed: 8");
  const Matrix m3 = load_ok(other);
  for (size_t i = 0; i < m1.cells.size(); ++i) CHECK(m1.cells[i].seed != m3.cells[i].seed);
  // Pinned: docs/matrix.md promises the same seed for the same matrix in every version. The
  // value was computed from the documented formula in Python, not by this code:
  //   mix64(fnv1a64(b"a.local.LATENCY=0ms\n1", mix64(7))) >> 11
  CHECK(derive_cell_seed(7, "a.local.LATENCY=0ms", "1") == 1848642377898061ULL);
  CHECK(*cell(m1, "a.local.LATENCY=0ms.s1").seed == 1848642377898061ULL);
}

TEST_CASE("the spec seed label runs a scenario at its own seed, without --seed") {
  const Matrix m = load_ok("version: 1\nname: t\naxes:\n  scenario: [a.yaml]\n  seed: [spec]\n");
  REQUIRE(m.cells.size() == 1);
  CHECK(m.cells[0].id == "a.spec.sspec");
  CHECK_FALSE(m.cells[0].seed.has_value());
  CHECK(m.cells[0].run_argv() == std::vector<std::string>{"faultline", "run", "m/a.yaml"});
}

TEST_CASE("exclude drops matching cells and include adds cells or sets their expect") {
  const Matrix m = load_ok(std::string(kProduct) + R"(exclude:
  - {scenario: a, set: {LATENCY: 0ms}}
  - {scenario: b, seed: 2}
include:
  - {scenario: ../specs/a-no-fault.yaml, expect: fail}
  - {scenario: ../specs/b.yaml, set: {LATENCY: 500ms}, seed: 1, expect: fail}
  - {scenario: ../specs/c.yaml, set: {LATENCY: 50ms, ERRORS: 0.2}, rate: 30/s}
)");
  CHECK(ids(m) == std::vector<std::string>{"a.local.LATENCY=500ms.s1", "a.local.LATENCY=500ms.s2",
                                           "b.local.LATENCY=0ms.s1", "b.local.LATENCY=500ms.s1",
                                           "a-no-fault.local.s1",
                                           "c.local.ERRORS=0.2.LATENCY=50ms.s1"});
  CHECK(cell(m, "a-no-fault.local.s1").expect == Expect::kFail);
  CHECK(cell(m, "b.local.LATENCY=500ms.s1").expect == Expect::kFail);
  CHECK(cell(m, "b.local.LATENCY=0ms.s1").expect == Expect::kPass);
  const Cell& c = cell(m, "c.local.ERRORS=0.2.LATENCY=50ms.s1");
  CHECK(c.rate == "30/s");
  CHECK(c.sets == std::map<std::string, std::string>{{"ERRORS", "0.2"}, {"LATENCY", "50ms"}});
}

TEST_CASE("expect rules: the last matching rule decides and include's own expect wins") {
  const Matrix m = load_ok(std::string(kProduct) + R"(include:
  - {scenario: ../specs/b.yaml, set: {LATENCY: 0ms}, seed: 1, expect: pass}
expect:
  - {when: {scenario: b}, expect: fail}
  - {when: {scenario: b, set: {LATENCY: 500ms}, seed: 2}, expect: pass}
)");
  CHECK(cell(m, "a.local.LATENCY=0ms.s1").expect == Expect::kPass);
  CHECK(cell(m, "b.local.LATENCY=0ms.s1").expect == Expect::kPass);  // include wins
  CHECK(cell(m, "b.local.LATENCY=0ms.s2").expect == Expect::kFail);
  CHECK(cell(m, "b.local.LATENCY=500ms.s1").expect == Expect::kFail);
  CHECK(cell(m, "b.local.LATENCY=500ms.s2").expect == Expect::kPass);
  const Matrix all_fail =
      load_ok("version: 1\nname: t\naxes: {scenario: [a.yaml]}\nexpect: fail\n");
  CHECK(all_fail.cells[0].expect == Expect::kFail);
}

struct Problem {
  int line;
  int column;
  std::string text;
};

std::vector<Problem> problems(const std::string& text) {
  MatrixLoad load = load_matrix_text(text, "bad.yaml");
  CHECK_FALSE(load.ok());
  std::vector<Problem> out;
  for (const auto& d : load.diagnostics) {
    CHECK(d.loc.file == "bad.yaml");
    out.push_back({d.loc.line, d.loc.column, format_diagnostic(d, false)});
  }
  return out;
}

TEST_CASE("schema and semantic errors are reported at file:line:col, every one") {
  const auto p = problems(R"(version: 1
name: t
axes:
  scenario: [a.yaml, a.yaml]
  rate: [fast]
  set:
    1BAD: [x]
expect: maybe
colour: red
)");
  std::string all;
  for (const auto& x : p) all += x.text + "\n";
  INFO(all);
  auto has = [&](int line, int column, const std::string& words) {
    for (const auto& x : p)
      if (x.line == line && x.column == column && x.text.find(words) != std::string::npos)
        return true;
    return false;
  };
  CHECK(has(5, 10, "axes.rate[0]"));
  CHECK(has(8, 9, "expect"));
  CHECK(has(9, 1, "colour"));
  // The semantic checks run only on a document the schema accepts.
  const auto q = problems(
      "version: 1\nname: t\naxes:\n  scenario: [a.yaml, x/a.yaml]\n"
      "  set:\n    1BAD: [x]\n");
  std::string qa;
  for (const auto& x : q) qa += x.text + "\n";
  INFO(qa);
  REQUIRE(q.size() == 2);
  CHECK(q[0].line == 4);
  CHECK(q[0].column == 22);
  CHECK(q[0].text.find("already on this axis") != std::string::npos);
  CHECK(q[1].line == 6);
  CHECK(q[1].column == 5);
  CHECK(q[1].text.find("not a variable name") != std::string::npos);
}

TEST_CASE("axis values with one name are an error, not two cells with one ID") {
  const auto p = problems(
      "version: 1\nname: t\naxes:\n  scenario: [a.yaml]\n"
      "  env: [x/local.yaml, y/local.yaml]\n");
  REQUIRE(p.size() == 1);
  CHECK(p[0].line == 3);
  CHECK(p[0].text.find("two cells would have the ID a.local.s1") != std::string::npos);
}

TEST_CASE("a matrix that excludes every cell is an error") {
  const auto p = problems(
      "version: 1\nname: t\naxes: {scenario: [a.yaml]}\n"
      "exclude: [{scenario: a}]\n");
  REQUIRE(p.size() == 1);
  CHECK(p[0].text.find("no cells") != std::string::npos);
}

MatrixResult hand_made_result() {
  const Matrix m = load_ok(
      "version: 1\nname: hand\naxes: {scenario: [ok.yaml, bad.yaml, "
      "ctl.yaml]}\nexpect: [{when: {scenario: ctl}, expect: fail}]\n");
  MatrixResult r;
  r.name = m.name;
  r.file = m.file;
  r.started_at = "2026-11-30T00:00:00Z";
  r.duration_s = 3;
  r.dir = "artifacts/matrix-hand";
  for (const auto& c : m.cells) r.cells.push_back(CellResult{c, {}, 0, false, false, 0});
  // ok: passed twice. bad: one pass, one failure naming assertions with XML's special
  // characters. ctl (expect fail): passed, so unmet.
  CellRun pass;
  pass.exit_code = 0;
  pass.status = "passed";
  pass.artifact = "a/incident-ok.json";
  CellRun fail;
  fail.exit_code = 1;
  fail.status = "failed";
  fail.failed_assertions = {"FAIL during(trigger): p95 > 800ms: observed 12ms <&\"'> \x01"};
  r.cells[0].runs = {pass, pass};
  r.cells[0].passes = 2;
  r.cells[0].met = true;
  r.cells[1].runs = {pass, fail};
  r.cells[1].passes = 1;
  r.cells[1].flaky = true;
  r.cells[2].runs = {pass};
  r.cells[2].passes = 1;
  return r;
}

TEST_CASE("the matrix artifact of a result satisfies its schema and says why cells are unmet") {
  const MatrixResult r = hand_made_result();
  CHECK(r.exit_code() == 1);
  const std::string json = matrix_report_json(r);
  CHECK(testing::schema_problem("matrix-report.schema.json", json) == "");
  CHECK(json.find("FAIL during(trigger): p95 > 800ms") != std::string::npos);
  CHECK(json.find("expected fail (negative control), but 1 of 1 runs passed") != std::string::npos);
  const std::string table = summary_table(r);
  CHECK(table.find("UNMET (flaky)") != std::string::npos);
  CHECK(table.find("1 of 3 cells met their expect, 1 flaky") != std::string::npos);
}

// A stand-in for the faultline binary: logs the start and end of each "run" to one file.
std::string fake_faultline(const testing::TempDir& dir) {
  const std::string path = dir / "fake-faultline";
  std::ofstream(path) << "#!/bin/sh\necho \"start $2\" >> " << (dir / "runs.log")
                      << "\nsleep 0.3\necho \"end $2\" >> " << (dir / "runs.log") << "\n";
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

std::string matrix_over_url_env(bool shareable) {
  const std::string env = std::string(FAULTLINE_SOURCE_DIR) + "/envs/compose.yaml";
  const std::string specs = std::string(FAULTLINE_SOURCE_DIR) + "/tests/matrix/specs/";
  return "version: 1\nname: url\naxes:\n  scenario: [" + specs + "quick-errors.yaml, " + specs +
         "quick-latency.yaml]\n  env: [" +
         (shareable ? "{file: " + env + ", shareable: true}" : env) + "]\n";
}

TEST_CASE("a URL environment is used by one run at a time unless it is shareable") {
  for (const bool shareable : {false, true}) {
    CAPTURE(shareable);
    testing::TempDir dir("matrix-url-env");
    const Matrix m = load_ok(matrix_over_url_env(shareable));
    MatrixRunOptions o;
    o.self_exe = fake_faultline(dir);
    o.artifacts_dir = dir / "artifacts";
    o.jobs = 2;
    std::FILE* out = std::fopen((dir / "progress.txt").c_str(), "w");
    REQUIRE(out != nullptr);
    const MatrixResult r = run_matrix(m, m.cells, o, out);
    std::fclose(out);
    CHECK(r.exit_code() == 0);
    std::ifstream in(dir / "runs.log");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line.substr(0, line.find(' ')));
    REQUIRE(lines.size() == 4);
    // Not shareable: each run ends before the next starts (the matrix holds the env's lock
    // until the child exited). Shareable: nothing to hold, both ran.
    if (!shareable) CHECK(lines == std::vector<std::string>{"start", "end", "start", "end"});
  }
}

TEST_CASE("stopping a matrix stops the run under way, starts no other and exits 130") {
  testing::TempDir dir("matrix-stop");
  // A run that lasts until it is told to stop, like faultline run on SIGTERM (exit 130), or
  // 10 s at most, so a matrix that fails to stop it fails the test instead of hanging it.
  const std::string fake = dir / "fake-faultline";
  std::ofstream(fake) << "#!/bin/sh\ntrap 'echo stopped >> " << (dir / "runs.log")
                      << "; exit 130' TERM\necho started >> " << (dir / "runs.log")
                      << "\ni=0\nwhile [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\necho "
                      << "'not stopped within 10s' >> " << (dir / "runs.log") << "\n";
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  const Matrix m = load_ok("version: 1\nname: stop\naxes: {scenario: [a.yaml, b.yaml, c.yaml]}\n");
  std::atomic<bool> stop{false};
  MatrixRunOptions o;
  o.self_exe = fake;
  o.artifacts_dir = dir / "artifacts";
  o.stop = &stop;
  std::FILE* out = std::fopen((dir / "progress.txt").c_str(), "w");
  REQUIRE(out != nullptr);
  MatrixResult r;
  std::thread runner([&] { r = run_matrix(m, m.cells, o, out); });
  // Stop once the first run has started (bounded wait on the file, not a guess).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!std::filesystem::exists(dir / "runs.log") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop.store(true);
  runner.join();
  std::fclose(out);
  CHECK(r.interrupted);
  CHECK(r.exit_code() == 130);
  REQUIRE(r.cells.size() == 3);
  CHECK(r.cells[0].runs[0].exit_code == 130);
  CHECK(r.cells[1].runs[0].status == "not-run");
  CHECK(r.cells[2].runs[0].status == "not-run");
  CHECK(read_whole_file(dir / "runs.log").value_or("") == "started\nstopped\n");
  CHECK(testing::schema_problem("matrix-report.schema.json", matrix_report_json(r)) == "");
}

TEST_CASE("--repeat gives a pass rate and a cell that passed and failed is flaky and unmet") {
  testing::TempDir dir("matrix-repeat");
  // Runs of cell a alternate: pass, fail, pass; cell b always passes.
  const std::string fake = dir / "fake-faultline";
  std::ofstream(fake) << "#!/bin/sh\ncase $2 in *b.yaml) exit 0;; esac\necho x >> "
                      << (dir / "count") << "\nn=$(wc -l < " << (dir / "count")
                      << ")\nexit $(( (n + 1) % 2 ))\n";
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  const Matrix m = load_ok("version: 1\nname: rep\naxes: {scenario: [a.yaml, b.yaml]}\n");
  MatrixRunOptions o;
  o.self_exe = fake;
  o.artifacts_dir = dir / "artifacts";
  o.repeat = 3;
  std::FILE* out = std::fopen((dir / "progress.txt").c_str(), "w");
  REQUIRE(out != nullptr);
  const MatrixResult r = run_matrix(m, m.cells, o, out);
  std::fclose(out);
  REQUIRE(r.cells.size() == 2);
  CHECK(r.cells[0].runs.size() == 3);
  CHECK(r.cells[0].passes == 2);
  CHECK(r.cells[0].flaky);
  CHECK_FALSE(r.cells[0].met);
  CHECK(r.cells[1].passes == 3);
  CHECK_FALSE(r.cells[1].flaky);
  CHECK(r.cells[1].met);
  CHECK(r.exit_code() == 1);
  CHECK(summary_table(r).find("2/3") != std::string::npos);
}

TEST_CASE("the nightly matrix covers every scenario with a negative control and every cell loads") {
  const auto saved = std::filesystem::current_path();
  std::filesystem::current_path(FAULTLINE_SOURCE_DIR);
  MatrixLoad load = load_matrix("specs/matrix/nightly.yaml");
  std::filesystem::current_path(saved);
  for (const auto& d : load.diagnostics) INFO(format_diagnostic(d, false));
  REQUIRE(load.ok());
  std::set<std::string> scenarios, controls, latencies;
  for (const auto& c : load.matrix->cells) {
    INFO(c.id);
    (c.expect == Expect::kFail ? controls : scenarios).insert(c.scenario);
    if (c.scenario == "dependency-latency") latencies.insert(c.sets.at("LATENCY"));
    LoadOptions o;
    o.variables = c.sets;
    o.environment_file = c.env_path;
    std::filesystem::current_path(FAULTLINE_SOURCE_DIR);
    const ScenarioLoad s = load_scenario(c.spec_path, o);
    std::filesystem::current_path(saved);
    for (const auto& d : s.diagnostics) INFO(format_diagnostic(d, false));
    CHECK(s.ok());
  }
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(FAULTLINE_SOURCE_DIR) + "/specs")) {
    if (e.path().extension() != ".yaml") continue;
    const std::string name = e.path().stem().string();
    CHECK_MESSAGE(scenarios.count(name), name << " is not in the nightly matrix");
  }
  CHECK(scenarios.count("latency-and-errors"));
  CHECK(latencies == std::set<std::string>{"0ms", "50ms", "100ms", "500ms"});
  CHECK(controls.count("latency-tail-no-fault"));
  CHECK(controls.count("latency-and-errors-no-fault"));
  CHECK(controls.size() >= 10);
}

#ifdef XMLLINT
TEST_CASE("JUnit XML of a result is well formed and escapes what assertions contain") {
  testing::TempDir dir("matrix-junit");
  const std::string path = dir / "junit.xml";
  std::ofstream(path) << junit_xml(hand_made_result());
  const std::string lint = std::string(XMLLINT) + " --noout " + path;
  CHECK(std::system(lint.c_str()) == 0);
  // Read back through xmllint's XPath: counts and the failure naming the assertion.
  const std::string out = dir / "xpath.txt";
  const std::string q = std::string(XMLLINT) +
                        " --xpath 'concat(//testsuite/@tests, \" \", //testsuite/@failures, "
                        "\" \", //testcase[@name=\"bad.spec.s1\"]/failure/@message)' " +
                        path + " > " + out;
  REQUIRE(std::system(q.c_str()) == 0);
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.rfind("3 2 expected pass, 1 of 2 runs did not pass; FAIL during(trigger): p95 > "
                   "800ms: observed 12ms <&\"'> ?",
                   0) == 0);
}
#endif

}  // namespace
}  // namespace faultline::matrix
