// `faultline validate` and `faultline schema`, run as subprocesses of the built binary.
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli_run.h"
#include "spec/embedded_schemas.h"

namespace fs = std::filesystem;

namespace {

using faultline::testing::faultline_cli;

// A scratch spec in the build tree, removed afterwards.
struct ScratchSpec {
  explicit ScratchSpec(const std::string& text)
      : path(std::string(FAULTLINE_BINARY_DIR) + "/tests/spec/scratch-" +
             std::to_string(::getpid()) + ".yaml") {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
  }
  ~ScratchSpec() { fs::remove(path); }
  std::string path;
};

}  // namespace

TEST_CASE("validate: the shipped specs are OK, exit 0") {
  const auto r = faultline_cli(
      "validate specs/latency-tail.yaml specs/error-storm.yaml "
      "specs/timeout-cascade.yaml specs/queue-backlog.yaml envs/local.yaml");
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output ==
        "specs/latency-tail.yaml: OK\nspecs/error-storm.yaml: OK\n"
        "specs/timeout-cascade.yaml: OK\nspecs/queue-backlog.yaml: OK\nenvs/local.yaml: OK\n");
}

TEST_CASE("validate: an invalid spec prints the diagnostic and exits 2") {
  ScratchSpec bad(
      "name: bad\ntarget: api\ntraffic:\n  routes: [{name: a, request: GET /}]\n"
      "phases:\n  - name: warmup\n    duration: 30 sec\n");
  const auto r = faultline_cli("validate --color never " + bad.path);
  CHECK(r.exit_code == 2);
  CHECK_MESSAGE(
      r.output.find(bad.path + ":7:15: error: phases[0].duration: expected a duration like "
                               "\"30s\", got \"30 sec\"\n"
                               " 7 |     duration: 30 sec\n"
                               "   |               ^~~~~~\n") != std::string::npos,
      r.output);
  CHECK(r.output.find(bad.path + ": invalid (1 error)") != std::string::npos);

  // One bad file among good ones still fails the run.
  const auto mixed = faultline_cli("validate specs/latency-tail.yaml " + bad.path);
  CHECK(mixed.exit_code == 2);
  CHECK(mixed.output.find("specs/latency-tail.yaml: OK") != std::string::npos);
}

TEST_CASE("validate --format json lists diagnostics for tools") {
  ScratchSpec bad(
      "name: bad\ntarget: api\ntraffic: {routes: [{name: a, request: GET /}]}\n"
      "phases: [{name: w, duration: 1s, rate: 1/s, ramp: {from: 1, to: 2}}]\n");
  const auto r = faultline_cli("validate --format json " + bad.path);
  CHECK(r.exit_code == 2);
  CHECK_MESSAGE(r.output == "[{\"file\":\"" + bad.path +
                                "\",\"line\":4,\"column\":10,\"severity\":\"error\",\"path\":"
                                "\"phases[0]\",\"message\":\"\\\"rate\\\" and \\\"ramp\\\" cannot "
                                "be used together\",\"hint\":\"keep only one of them\"}]\n",
                r.output);
  const auto ok = faultline_cli("validate --format json specs/latency-tail.yaml");
  CHECK(ok.exit_code == 0);
  CHECK(ok.output == "[]\n");
}

TEST_CASE("validate: --set and --env - usage errors exit 2") {
  ScratchSpec spec(
      "name: s\ntarget: api\nseed: ${SEED}\ntraffic: {routes: [{name: a, request: GET /}]}\n"
      "phases: [{name: w, duration: 1s}]\n");
  auto r = faultline_cli("validate --color never " + spec.path);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("variable SEED is not set") != std::string::npos);
  r = faultline_cli("validate --set SEED=4 --env envs/local-cascade.yaml " + spec.path);
  CHECK_MESSAGE(r.exit_code == 0, r.output);
  CHECK(faultline_cli("validate").exit_code == 2);
  CHECK(faultline_cli("validate --format xml specs/latency-tail.yaml").exit_code == 2);
  CHECK(faultline_cli("validate --set NOEQUALS specs/latency-tail.yaml").exit_code == 2);
  const auto missing = faultline_cli("validate no/such/file.yaml");
  CHECK(missing.exit_code == 2);
  CHECK(missing.output.find("cannot read no/such/file.yaml") != std::string::npos);
  const auto help = faultline_cli("validate --help");
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("--format") != std::string::npos);
}

TEST_CASE("schema prints the embedded schemas") {
  const auto s = faultline_cli("schema");
  CHECK(s.exit_code == 0);
  CHECK(s.output == std::string(faultline::scenario_schema_json()));
  const auto e = faultline_cli("schema environment");
  CHECK(e.exit_code == 0);
  CHECK(e.output == std::string(faultline::environment_schema_json()));
  CHECK(faultline_cli("schema nope").exit_code == 2);
}
