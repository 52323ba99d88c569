// Peak rate x timeout above traffic.max_in_flight is a warning, not an error (issue 8, defect
// 13): a healthy target answers long before the timeout, so such a spec is valid; the warning
// explains the risk (a stalled target makes requests drop) and validate, plan and run go on.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli_run.h"
#include "loopback_listen.h"
#include "spec_test_support.h"

using namespace faultline;
using faultline::testing::summary;
using faultline::testing::world_with;

namespace fs = std::filesystem;

namespace {

// 10000/s with the default 5 s timeout can keep 50000 requests in flight; the default
// max_in_flight is 256.
const char* kBusySpec = R"(name: busy
target: api
traffic:
  rate: 10000/s
  routes: [{name: a, request: GET /}]
phases:
  - name: a
    duration: 200ms
  - name: b
    duration: 200ms
    ramp:
      from: 1/s
      to: 100/s
)";

const Diagnostic* find_warning(const std::vector<Diagnostic>& ds, const std::string& text) {
  for (const auto& d : ds)
    if (d.severity == "warning" && d.message.find(text) != std::string::npos) return &d;
  return nullptr;
}

using faultline::testing::CliRun;
using faultline::testing::faultline_cli;

// A loopback port that was free a moment ago (bound to port 0, read back, closed): nothing
// here listens on it.
int unused_loopback_port() {
  int port = 0;
  const int fd = testing::bind_loopback_unlistened(&port);
  REQUIRE(fd >= 0);
  ::close(fd);
  return port;
}

// A scratch directory in the build tree, removed afterwards.
struct ScratchDir {
  ScratchDir()
      : path(std::string(FAULTLINE_BINARY_DIR) + "/tests/spec/capacity-" +
             std::to_string(::getpid())) {
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path + "/" + name) << text;
    return path + "/" + name;
  }
  std::string path;
};

}  // namespace

TEST_CASE("capacity: rate x timeout over max_in_flight is a warning with the risk and the fix") {
  const ScenarioLoad load =
      faultline::testing::load_text(world_with("specs/busy.yaml", kBusySpec), "specs/busy.yaml");
  CHECK_MESSAGE(load.ok(), summary(load.diagnostics));
  CHECK_FALSE(has_errors(load.diagnostics));
  const Diagnostic* d = find_warning(load.diagnostics, "10000/s with a 5s timeout");
  REQUIRE_MESSAGE(d != nullptr, summary(load.diagnostics));
  CHECK(d->path == "traffic.rate");
  CHECK(d->loc.line == 4);
  CHECK(d->loc.column == 9);
  CHECK(d->message ==
        "10000/s with a 5s timeout can keep up to 50000 requests in flight, more than "
        "traffic.max_in_flight (256): if the target stalls, requests beyond 256 in flight are "
        "dropped (counted as dropped, never sent)");
  CHECK(d->hint.find("raise traffic.max_in_flight to at least 50000") != std::string::npos);
  CHECK(d->hint.find("shorten traffic.timeout to at most 25ms") != std::string::npos);
  // Each phase's own peak is placed at its rate: the ramp's 100/s needs 500.
  const Diagnostic* ramp = find_warning(load.diagnostics, "100/s with a 5s timeout");
  REQUIRE_MESSAGE(ramp != nullptr, summary(load.diagnostics));
  CHECK(ramp->path == "phases[1].ramp.to");
  CHECK(ramp->loc.line == 13);
}

TEST_CASE("capacity: within max_in_flight there is no warning") {
  std::string spec = kBusySpec;
  spec.replace(spec.find("  rate: 10000/s\n"), 16, "  rate: 10000/s\n  max_in_flight: 50000\n");
  const ScenarioLoad load =
      faultline::testing::load_text(world_with("specs/busy.yaml", spec), "specs/busy.yaml");
  CHECK_MESSAGE(load.ok(), summary(load.diagnostics));
  CHECK(load.diagnostics.empty());
}

TEST_CASE("capacity: validate prints the warning and exits 0, plan goes on") {
  ScratchDir dir;
  const std::string spec = dir.write("busy.yaml", kBusySpec);
  const CliRun v = faultline_cli("validate --color never '" + spec + "'");
  CHECK_MESSAGE(v.exit_code == 0, v.output);
  CHECK(v.output.find(spec + ":4:9: warning: traffic.rate: 10000/s with a 5s timeout") !=
        std::string::npos);
  CHECK(v.output.find(spec + ": OK (2 warnings)") != std::string::npos);

  const CliRun p = faultline_cli("plan '" + spec + "'");
  CHECK_MESSAGE(p.exit_code == 0, p.output);
  CHECK(p.output.find("warning: traffic.rate") != std::string::npos);
  CHECK(p.output.find("plan hash") != std::string::npos);
}

TEST_CASE("capacity: run loads the spec despite the warning and goes on to the environment") {
  // The only service is a URL on a port nobody listens on, ready within 100 ms or not at all:
  // the run gets past loading (exit 2 would mean the spec was refused) and stops at the
  // environment (exit 3) without sending anything.
  ScratchDir dir;
  const int port = unused_loopback_port();
  const std::string env =
      dir.write("env.yaml", "services:\n  api:\n    url: http://127.0.0.1:" + std::to_string(port) +
                                "\n    ready: {timeout: 100ms}\n");
  const std::string spec = dir.write("busy.yaml", kBusySpec);
  const CliRun r = faultline_cli("run -q '" + spec + "' --env '" + env + "' --artifacts '" +
                                 dir.path + "/artifacts'");
  CHECK_MESSAGE(r.exit_code == 3, r.output);
  CHECK(r.output.find("warning: traffic.rate: 10000/s with a 5s timeout") != std::string::npos);
  CHECK(r.output.find("was not ready within 100ms") != std::string::npos);
}
