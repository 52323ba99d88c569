// End to end: each fault kind that needs no cooperation from the system (process, proxy,
// exec) breaks the real demo services through the faultline binary, and the scenario's own
// assertions prove the fault happened (they fail when it does not) and that it was undone.
// The specs are tests/integration/specs/kinds-*.yaml.
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "faultline_runs.h"

using namespace faultline;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using testing::Run;
using testing::run_faultline;

// Every assertion of the report passed (and there is at least one).
void check_all_pass(const Run& r) {
  REQUIRE(r.report.IsObject());
  const auto& assertions = r.report["assertions"];
  REQUIRE(assertions.IsArray());
  CHECK(assertions.Size() > 0);
  for (const auto& a : assertions.GetArray()) {
    INFO(std::string(a["text"].GetString()) << ": " << a["message"].GetString());
    CHECK(std::string(a["status"].GetString()) == "pass");
  }
}

// How many fault events of `kind` with `action` the report has, by whether they went through.
struct EventCount {
  int ok = 0;
  int failed = 0;
};
std::map<std::string, EventCount> events_of(const Run& r, const std::string& kind) {
  std::map<std::string, EventCount> out;
  for (const auto& e : r.report["fault_events"].GetArray()) {
    if (std::string(e["kind"].GetString()) != kind) continue;
    auto& c = out[e["action"].GetString()];
    (e["ok"].IsTrue() ? c.ok : c.failed)++;
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(f, line);) out.push_back(line);
  return out;
}

// Processes whose stdout is a file under `dir` (the services a faultline run started write
// their logs into its bundle there), with their state letter from /proc/<pid>/stat.
std::map<int, char> processes_logging_under(const std::string& dir) {
  std::map<int, char> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code link_ec;
    const fs::path target = fs::read_symlink(entry.path() / "fd" / "1", link_ec);
    if (link_ec || target.string().rfind(dir, 0) != 0) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const size_t paren = text.rfind(')');
    if (paren == std::string::npos || paren + 2 >= text.size()) continue;
    out[std::stoi(name)] = text[paren + 2];
  }
  return out;
}

std::string bundle_dir(const Run& r) {
  return (fs::path(r.artifact).parent_path() / r.report["bundle"]["dir"].GetString()).string();
}

}  // namespace

TEST_CASE("a killed target fails every request until the undo starts it again on its port") {
  const Run r = run_faultline({"run", "tests/integration/specs/kinds-process-kill.yaml"}, "kill");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  check_all_pass(r);
  CHECK(r.report["faults_undone"].IsTrue());
  auto ev = events_of(r, "process");
  CHECK(ev["kill"].ok == 1);
  CHECK(ev["start"].ok == 1);
}

TEST_CASE("a crash loop kills and restarts the worker the number of times asked") {
  const Run r = run_faultline({"run", "tests/integration/specs/kinds-crash-loop.yaml"}, "loop");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  check_all_pass(r);
  CHECK(r.report["faults_undone"].IsTrue());
  auto ev = events_of(r, "process");
  CHECK(ev["kill"].ok == 3);
  CHECK(ev["start"].ok == 3);
  CHECK(ev["kill"].failed + ev["start"].failed == 0);
}

TEST_CASE("a paused dependency stalls the orders until it is resumed") {
  const Run r = run_faultline({"run", "tests/integration/specs/kinds-pause.yaml"}, "pause");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  check_all_pass(r);
  CHECK(r.report["faults_undone"].IsTrue());
  auto ev = events_of(r, "process");
  CHECK(ev["pause"].ok == 1);
  CHECK(ev["resume"].ok == 1);
}

TEST_CASE("proxy toxics slow and cut the api's paths to redis and payment, and are lifted") {
  const Run r = run_faultline({"run", "tests/integration/specs/kinds-proxy.yaml"}, "proxy");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  check_all_pass(r);
  CHECK(r.report["faults_undone"].IsTrue());
  CHECK(events_of(r, "proxy")["apply"].ok >= 2);
}

TEST_CASE("exec hooks run and undo in order, argv without a shell, output in the bundle") {
  testing::TempDir dir("faultline-e2e-exec");
  const std::string marker = dir.path() + "/marker";
  const Run r = run_faultline(
      {"run", "tests/integration/specs/kinds-exec.yaml", "--set", "MARKER_FILE=" + marker}, "exec");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  check_all_pass(r);
  // Each hook ran, then was undone; hooks due at the same instant run concurrently, so only
  // each hook's own order is fixed. `a;b` reached sh as one argument, not as a command.
  const std::vector<std::string> lines = lines_of(marker);
  auto at = [&](const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) - lines.begin();
  };
  CHECK(lines.size() == 4);
  CHECK(at("run argv a;b") < at("undo argv"));
  CHECK(at("run shell") < at("undo shell"));
  CHECK(at("undo shell") < static_cast<long>(lines.size()));
  CHECK(at("undo argv") < static_cast<long>(lines.size()));
  const std::string log = testing::read_file(bundle_dir(r) + "/logs/exec-shell_hook.log");
  CHECK(log.find("to-the-log") != std::string::npos);
}

TEST_CASE("an exec hook that fails ends the run with exit 3, and its undo still runs") {
  testing::TempDir dir("faultline-e2e-exec-fail");
  const std::string marker = dir.path() + "/marker";
  const Run r = run_faultline(
      {"run", "tests/integration/specs/kinds-exec-fail.yaml", "--set", "MARKER_FILE=" + marker},
      "execfail");
  INFO(r.output);
  CHECK(r.exit_code == 3);
  CHECK(r.status() == "environment-error");
  const std::vector<std::string> expected = {"attempted", "undone"};
  CHECK(lines_of(marker) == expected);
}

TEST_CASE("SIGKILL of faultline while it holds a service paused leaves no paused process") {
  const testing::TempDir tmp("e2e-pause-sigkill");
  const std::string& dir = tmp.path();
  ChildProcess p = testing::start_faultline(
      {"run", "tests/integration/specs/kinds-pause.yaml", "--duration", "60s"}, dir);
  // Wait until one of the services it started is stopped (T): payment, paused by the trigger.
  int paused = 0;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (paused == 0 && std::chrono::steady_clock::now() < deadline) {
    for (const auto& [pid, state] : processes_logging_under(dir))
      if (state == 'T') paused = pid;
    if (paused == 0) std::this_thread::sleep_for(50ms);
  }
  REQUIRE(paused != 0);
  p.send_signal(SIGKILL);
  REQUIRE(p.wait_for_exit(10s));
  // Every service faultline started goes with it, the paused one included (SIGKILL needs no
  // SIGCONT). A bounded wait: the watchdogs act within a second.
  const auto gone_by = std::chrono::steady_clock::now() + 10s;
  std::map<int, char> left = processes_logging_under(dir);
  while (!left.empty() && std::chrono::steady_clock::now() < gone_by) {
    std::this_thread::sleep_for(100ms);
    left = processes_logging_under(dir);
  }
  std::string names;
  for (const auto& [pid, state] : left) names += std::to_string(pid) + ":" + state + " ";
  INFO("left behind: " << names);
  CHECK(left.empty());
}

TEST_CASE("one killed instance behind nginx is hidden from clients and its share moves over") {
  const Run r = run_faultline({"run", "tests/integration/specs/kinds-instances.yaml"}, "inst");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  check_all_pass(r);
  CHECK(r.report["faults_undone"].IsTrue());
  const auto& events = r.report["fault_events"];
  REQUIRE(events.IsArray());
  REQUIRE(events.Size() == 2);
  for (const auto& e : events.GetArray()) CHECK(std::string(e["target"].GetString()) == "api#1");
  auto ev = events_of(r, "process");
  CHECK(ev["kill"].ok == 1);
  CHECK(ev["start"].ok == 1);
  // The report lists each instance and the balancer (named after the service), with its log.
  std::map<std::string, std::string> logs, urls;
  for (const auto& s : r.report["meta"]["services"].GetArray()) {
    CHECK(s["pid"].GetInt() > 0);
    logs[s["name"].GetString()] = s["log"].GetString();
    urls[s["name"].GetString()] = s["url"].GetString();
  }
  CHECK(logs["api#0"] == "logs/api.0.log");
  CHECK(logs["api#1"] == "logs/api.1.log");
  CHECK(logs["api#2"] == "logs/api.2.log");
  CHECK(logs["api"] == "logs/api.nginx/error.log");
  // nginx's access log names the instances each request was sent to: all three served.
  const auto access = lines_of(bundle_dir(r) + "/logs/api.nginx/access.log");
  CHECK(access.size() >= 480);
  for (const char* instance : {"api#0", "api#1", "api#2"}) {
    const std::string upstream = "upstream=" + urls[instance].substr(std::strlen("http://"));
    INFO(instance << " at " << upstream);
    CHECK(std::count_if(access.begin(), access.end(), [&](const std::string& line) {
            return line.find(upstream) != std::string::npos;
          }) >= 20);
  }
}
