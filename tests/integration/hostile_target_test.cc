// faultline against a target that misbehaves on purpose (hostile_target.cc), started by
// faultline itself from a generated environment: a /metrics page far over the body cap, a
// fault reset that hangs past every timeout, a service that dies mid-run, and faultline killed
// with SIGKILL. Each run is a few seconds of traffic at 20/s.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "faultline_runs.h"
#include "observe/gz_file.h"
#include "temp_dir.h"

using namespace faultline;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using testing::Run;
using testing::run_faultline_in;
using testing::TempDir;

// A spec of three 2 s phases against `target`, the trigger setting knob x, and an environment
// that starts hostile_target with `flags`. Returns the args for `faultline run`.
std::vector<std::string> hostile_run(const std::string& dir, const std::string& flags,
                                     const std::string& phase = "2s") {
  {
    std::ofstream env(dir + "/env.yaml");
    env << "version: 1\nname: hostile\nservices:\n  target:\n    command: [\"" << HOSTILE_TARGET
        << "\", --port, \"{port}\"" << flags << "]\n    ready: {path: /ready, timeout: 5s}\n"
        << "    faults: true\n";
  }
  {
    std::ofstream spec(dir + "/hostile.yaml");
    spec << "version: 1\nname: hostile\nseed: 7\ntarget: target\n"
         << "traffic:\n  rate: 20/s\n  timeout: 2s\n  max_in_flight: 64\n  routes:\n"
         << "    - {name: root, weight: 1, request: GET /}\n"
         << "fault_profiles:\n  poke:\n    knobs:\n      target: {x: 1}\n"
         << "phases:\n  - {name: warmup, duration: " << phase << "}\n"
         << "  - {name: trigger, duration: " << phase << ", faults: [poke]}\n"
         << "  - {name: cooldown, duration: " << phase << "}\n"
         << "observe:\n  interval: 1s\n  targets: [target]\n"
         << "assert:\n  - \"overall: count > 10\"\n";
  }
  return {"run", dir + "/hostile.yaml", "--env", dir + "/env.yaml", "--progress", "quiet"};
}

uintmax_t tree_bytes(const std::string& dir) {
  uintmax_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

std::string gunzip(const std::string& path) {
  observe::GzReadFile f(path, "log");
  std::string out;
  for (int c; (c = f.get()) >= 0;) out.push_back(static_cast<char>(c));
  return out;
}

std::string bundle_of(const Run& r) {
  return r.artifact.substr(0, r.artifact.size() - 5);  // "<stem>.json" -> "<stem>"
}

}  // namespace

TEST_CASE("a /metrics page over the cap fails its scrapes with the reason, traffic unharmed") {
  const TempDir tmp("hostile-metrics");
  const std::string dir = tmp.path();
  const Run r = run_faultline_in(hostile_run(dir, ", --metrics-mb, \"20\""), dir, 60s);
  INFO(r.output);
  REQUIRE_FALSE(r.artifact.empty());
  CHECK(r.exit_code == 0);  // the traffic assertion holds; scrapes are not needed by it
  const std::string bundle = bundle_of(r);
  // Without the cap the bundle held a copy of every page (812 MB for a 9 s run of 200 MiB).
  CHECK(tree_bytes(bundle) < 2u * 1024 * 1024);
  const std::string scrapes = gunzip(bundle + "/scrapes.txt.gz");
  CHECK(scrapes.find("larger than 16777216 bytes") != std::string::npos);
  // Every arrival was sent: a scrape never held up the traffic.
  const auto& phases = r.report["phases"];
  int64_t dropped = 0;
  for (const auto& p : phases.GetArray()) dropped += p["client"]["dropped"].GetInt64();
  CHECK(dropped == 0);
}

TEST_CASE("a reset that hangs: no renewals after the phase, bounded run, exit 3 naming the knob") {
  const TempDir tmp("hostile-reset");
  const std::string dir = tmp.path();
  const auto started = std::chrono::steady_clock::now();
  const Run r = run_faultline_in(hostile_run(dir, ", --reset-hang-ms, \"60000\""), dir, 90s);
  const auto took = std::chrono::steady_clock::now() - started;
  INFO(r.output);
  REQUIRE_FALSE(r.artifact.empty());
  CHECK(r.exit_code == 3);
  CHECK(r.status() == "environment-error");
  const std::string detail = r.report["status_detail"].GetString();
  CHECK(detail.find("could not be confirmed") != std::string::npos);
  CHECK(detail.find(R"(target may still hold {"x":1})") != std::string::npos);
  // 6 s of plan, plus at most the undo budget and one hanging call.
  CHECK(took < 25s);
  // The knobs were lifted at 4 s (cooldown): nothing renewed them after that.
  for (const auto& e : r.report["fault_events"].GetArray()) {
    const std::string action = e["action"].GetString();
    if (action == "renew") CHECK(e["at_us"].GetInt64() < 4'000'000);
  }
}

TEST_CASE("a service that dies mid-run ends it as an environment error, with the bundle kept") {
  const TempDir tmp("hostile-dies");
  const std::string dir = tmp.path();
  const Run r = run_faultline_in(hostile_run(dir, ", --exit-after-ms, \"3000\""), dir, 60s);
  INFO(r.output);
  REQUIRE_FALSE(r.artifact.empty());
  CHECK(r.exit_code == 3);
  const std::string detail = r.report["status_detail"].GetString();
  CHECK(detail.find("service 'target'") != std::string::npos);
  CHECK(detail.find("exited (exit code 7)") != std::string::npos);
  CHECK(fs::file_size(bundle_of(r) + "/samples.csv.gz") > 0);
}

TEST_CASE("faultline killed with SIGKILL mid-run leaves logs that hold what it saw") {
  const TempDir tmp("hostile-kill9");
  const std::string dir = tmp.path();
  ChildProcess p = testing::start_faultline(hostile_run(dir, "", "4s"), dir);
  // Wait until 5 s of plan time have passed: the bundle's sample log has been flushed.
  std::string bundle;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (bundle.empty() && std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(dir + "/artifacts"))
      for (const auto& e : fs::directory_iterator(dir + "/artifacts"))
        if (e.is_directory()) bundle = e.path().string();
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE_FALSE(bundle.empty());
  // The first sample is due 300 ms after the services are up; poll until the log has data.
  const auto has_samples = [&] {
    return fs::exists(bundle + "/samples.csv.gz") &&
           gunzip(bundle + "/samples.csv.gz").size() > 200;
  };
  while (!has_samples() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  std::this_thread::sleep_for(1500ms);  // at least one more flush interval of traffic
  p.send_signal(SIGKILL);
  p.wait_for_exit(10s);
  const std::string samples = gunzip(bundle + "/samples.csv.gz");
  // Header + at least a second of 20/s traffic.
  CHECK(std::count(samples.begin(), samples.end(), '\n') > 20);
  CHECK(gunzip(bundle + "/scrapes.txt.gz").size() > 0);
}
