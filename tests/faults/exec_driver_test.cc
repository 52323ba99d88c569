// ExecDriver with real commands (/bin/sh, true, touch, rm, sleep): run and undo order, the
// hook's log, failures, timeouts that stop the whole process group, undo_all on every path,
// and argv passed without a shell unless asked. Commands leave marker files that the test
// checks; every wait polls tick() against a deadline.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/file_io.h"
#include "common/json_out.h"
#include "faults/exec_driver.h"
#include "temp_dir.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::TempDir;

std::string exec_state(const std::vector<std::string>& run, const std::vector<std::string>& undo,
                       bool shell = false, Duration timeout = 10s) {
  JsonOut j(JsonOut::kCompact);
  j.begin_object();
  j.key("run").begin_array();
  for (const auto& a : run) j.value(a);
  j.end_array();
  j.key("undo").begin_array();
  for (const auto& a : undo) j.value(a);
  j.end_array();
  j.member("shell", shell);
  j.member("timeout_us", static_cast<int64_t>(timeout.count()));
  j.end_object();
  return j.text();
}

FaultStep step(const std::string& hook, const std::string& state, Duration at = 0s) {
  FaultStep s;
  s.at = at;
  s.phase = "storm";
  s.kind = "exec";
  s.target = hook;
  s.state_json = state;
  return s;
}

ExecDriverOptions options_in(const TempDir& dir) {
  ExecDriverOptions o;
  o.log_dir = dir / "logs";
  o.kill_grace = 200ms;
  return o;
}

// Ticks until the driver has recorded `n` events (commands finished); false after `limit`.
bool wait_events(ExecDriver& driver, size_t n, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = Clock::now() + limit;
  while (true) {
    driver.tick(1s);
    if (driver.events().size() >= n) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
}

bool exists(const std::string& path) {
  return std::filesystem::exists(path);
}

bool process_gone(pid_t pid) {
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

pid_t read_pid(const std::string& path) {
  const auto text = read_whole_file(path);
  REQUIRE(text);
  return static_cast<pid_t>(std::stol(*text));
}

TEST_CASE("run starts when the hook is applied and undo when it is lifted, logged in order") {
  TempDir dir("exec-driver");
  ExecDriver driver(options_in(dir));
  const std::string marker = dir / "marker";
  const std::string state =
      exec_state({"/bin/sh", "-c", "touch \"$0\" && echo run-out && echo run-err >&2", marker},
                 {"/bin/sh", "-c", "rm \"$0\" && echo undo-out", marker});

  driver.apply(step("break", state, 2s), 2s);
  REQUIRE(wait_events(driver, 1));
  CHECK(exists(marker));
  CHECK(driver.settled());
  driver.apply(step("break", "{}", 5s), 5s);
  REQUIRE(wait_events(driver, 2));
  CHECK_FALSE(exists(marker));  // rm succeeded, so it ran after touch
  CHECK(driver.settled());

  const auto events = driver.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].action == "run");
  CHECK(events[0].ok);
  CHECK(events[0].status == 0);
  CHECK(events[0].at == 2s);
  CHECK(events[0].kind == "exec");
  CHECK(events[0].target == "break");
  CHECK(events[0].state_json == state);
  CHECK(events[0].call_latency > 0us);
  CHECK(events[1].action == "undo");
  CHECK(events[1].ok);
  CHECK(events[1].at == 5s);

  const auto log = read_whole_file(driver.log_path("break"));
  REQUIRE(log);
  CHECK(driver.log_path("break") == dir / "logs/exec-break.log");
  const std::vector<std::string> in_order = {"=== faultline exec hook 'break': run at plan time 2s",
                                             "run-out",
                                             "=== run succeeded: exited with status 0",
                                             "undo at plan time 5s",
                                             "undo-out",
                                             "=== undo succeeded"};
  size_t at = 0;
  for (const auto& piece : in_order) {
    const size_t found = log->find(piece, at);
    CHECK_MESSAGE(found != std::string::npos, piece << " missing or out of order in\n" << *log);
    if (found != std::string::npos) at = found;
  }
  CHECK(log->find("run-err") != std::string::npos);  // stderr is kept too

  // Nothing is left to undo.
  CHECK(driver.undo_all(6s, "undo at end", 5s));
  CHECK(driver.events().size() == 2);
  CHECK(driver.state().apply_failures.empty());
  CHECK(driver.state().not_undone.empty());
}

TEST_CASE("a run that exits non-zero is an apply failure, and undo_all still runs its undo") {
  TempDir dir("exec-driver");
  ExecDriver driver(options_in(dir));
  const std::string undone = dir / "undone";
  driver.apply(step("partial", exec_state({"/bin/sh", "-c", "echo half-done-detail; exit 3"},
                                          {"touch", undone})),
               0s);
  REQUIRE(wait_events(driver, 1));
  CHECK_FALSE(driver.settled());
  const auto failures = driver.state().apply_failures;
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].find("'partial'") != std::string::npos);
  CHECK(failures[0].find("status 3") != std::string::npos);
  CHECK(failures[0].find("half-done-detail") != std::string::npos);
  CHECK(driver.events()[0].status == 3);
  CHECK_FALSE(driver.events()[0].ok);
  // The failed run is not started again by later ticks.
  for (int i = 0; i < 5; ++i) driver.tick(2s);
  CHECK(driver.events().size() == 1);

  CHECK_FALSE(exists(undone));
  CHECK(driver.undo_all(3s, "undo after error", 5s));
  CHECK(exists(undone));
  REQUIRE(driver.events().size() == 2);
  CHECK(driver.events()[1].action == "undo");
  CHECK(driver.events()[1].phase == "undo after error");
  CHECK(driver.state().not_undone.empty());
}

TEST_CASE("a run that cannot start is a failure with nothing to undo, and preflight names it") {
  TempDir dir("exec-driver");
  const std::string undone = dir / "undone";
  const std::string missing = dir / "no-such-command";
  const std::string state = exec_state({missing}, {"touch", undone});

  SUBCASE("apply") {
    ExecDriver driver(options_in(dir));
    driver.apply(step("ghost", state), 0s);
    REQUIRE(wait_events(driver, 1));
    REQUIRE(driver.state().apply_failures.size() == 1);
    CHECK(driver.state().apply_failures[0].find("cannot start") != std::string::npos);
    CHECK(driver.undo_all(1s, "undo after error", 5s));
    CHECK_FALSE(exists(undone));  // the run never ran, so there is nothing to undo
    CHECK(driver.events().size() == 1);
  }
  SUBCASE("preflight") {
    Plan plan;
    plan.fault_steps = {step("ghost", state)};
    ExecDriver driver(options_in(dir));
    CHECK_THROWS_WITH_AS(driver.preflight(plan), doctest::Contains("exec hook 'ghost'"),
                         EnvironmentError);
    plan.fault_steps = {step("bare", exec_state({"true"}, {"faultline-no-such-tool-xyz"}))};
    CHECK_THROWS_WITH_AS(driver.preflight(plan),
                         doctest::Contains("the undo command 'faultline-no-such-tool-xyz' is not "
                                           "found in PATH"),
                         EnvironmentError);
    // Resolvable names and paths pass; with shell, the words are the shell's business.
    plan.fault_steps = {step("ok", exec_state({"true"}, {"/bin/true"})),
                        step("sh", exec_state({"faultline-no-such-tool-xyz"}, {}, true)),
                        step("ok", "{}", 1s)};
    CHECK_NOTHROW(driver.preflight(plan));
    CHECK(std::filesystem::is_directory(dir / "logs"));
  }
}

TEST_CASE("a run that times out has its whole process group stopped, grandchild included") {
  TempDir dir("exec-driver");
  ExecDriver driver(options_in(dir));
  const std::string pidfile = dir / "grandchild.pid";
  const std::string undone = dir / "undone";
  // The shell starts a grandchild in its group and waits for it; neither ends by itself.
  const std::string state =
      exec_state({"/bin/sh", "-c", "sleep 30 & echo $! > \"$0\"; wait", pidfile}, {"touch", undone},
                 false, 300ms);
  const auto started = Clock::now();
  driver.apply(step("hang", state), 0s);
  REQUIRE(wait_events(driver, 1, 10000ms));
  const auto took = Clock::now() - started;
  CHECK(took >= 300ms);
  CHECK(took < 3s);  // timeout + kill grace, with room for a loaded machine
  const FaultEvent ev = driver.events()[0];
  CHECK_FALSE(ev.ok);
  CHECK(ev.error.find("timed out after 300ms") != std::string::npos);
  CHECK(ev.call_latency >= 300ms);
  REQUIRE(driver.state().apply_failures.size() == 1);
  REQUIRE(exists(pidfile));
  CHECK(process_gone(read_pid(pidfile)));
  const auto log = read_whole_file(driver.log_path("hang"));
  REQUIRE(log);
  CHECK(log->find("=== run failed: timed out") != std::string::npos);
  // It was started, so it is undone.
  CHECK(driver.undo_all(1s, "undo after error", 5s));
  CHECK(exists(undone));
}

TEST_CASE("a command's leftover processes are stopped when it exits") {
  TempDir dir("exec-driver");
  ExecDriver driver(options_in(dir));
  const std::string pidfile = dir / "left.pid";
  driver.apply(
      step("bg", exec_state({"/bin/sh", "-c", "sleep 30 & echo $! > \"$0\"", pidfile}, {})), 0s);
  REQUIRE(wait_events(driver, 1));
  CHECK(driver.events()[0].ok);
  CHECK(process_gone(read_pid(pidfile)));
  const auto log = read_whole_file(driver.log_path("bg"));
  REQUIRE(log);
  CHECK(log->find("processes it left in its group were stopped") != std::string::npos);
}

TEST_CASE("a failing undo is reported as not undone, and undo_all tries it once more") {
  TempDir dir("exec-driver");
  ExecDriver driver(options_in(dir));
  const std::string state = exec_state({"true"}, {"/bin/sh", "-c", "echo still-broken; exit 1"});
  driver.apply(step("sticky", state), 0s);
  REQUIRE(wait_events(driver, 1));
  CHECK(driver.settled());
  driver.apply(step("sticky", "{}", 1s), 1s);
  REQUIRE(wait_events(driver, 2));
  for (int i = 0; i < 5; ++i) driver.tick(2s);
  CHECK(driver.events().size() == 2);  // tick() does not run a failed undo again

  auto gaps = driver.state().not_undone;
  REQUIRE(gaps.size() == 1);
  CHECK(gaps[0].kind == "exec");
  CHECK(gaps[0].target == "sticky");
  CHECK(gaps[0].state_json == state);
  CHECK(gaps[0].error.find("status 1") != std::string::npos);
  CHECK(gaps[0].error.find("still-broken") != std::string::npos);

  CHECK_FALSE(driver.undo_all(3s, "undo at end", 5s));
  REQUIRE(driver.events().size() == 3);
  CHECK(driver.events()[2].action == "undo");
  CHECK_FALSE(driver.events()[2].ok);
  CHECK(driver.state().not_undone.size() == 1);
  CHECK(driver.state().apply_failures.empty());  // an undo is not an apply
}

TEST_CASE("apply does not wait for the command, and undo_all waits for a run under way") {
  TempDir dir("exec-driver");
  ExecDriver driver(options_in(dir));
  const std::string marker = dir / "marker";
  // rm fails unless the run's touch happened before it.
  const std::string state =
      exec_state({"/bin/sh", "-c", "sleep 0.5 && touch \"$0\"", marker}, {"rm", marker});
  const auto before = Clock::now();
  driver.apply(step("slow", state), 0s);
  CHECK(Clock::now() - before < 250ms);
  driver.tick(0s);
  CHECK_FALSE(driver.settled());
  CHECK(driver.undo_all(0s, "undo after interrupt", 5s));
  CHECK_FALSE(exists(marker));
  const auto events = driver.events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].action == "run");
  CHECK(events[0].ok);
  CHECK(events[1].action == "undo");
  CHECK(events[1].ok);
}

TEST_CASE("undo_all cancels a command that outlives its budget and reports the hook") {
  TempDir dir("exec-driver");
  ExecDriver driver(options_in(dir));
  const std::string pidfile = dir / "run.pid";
  driver.apply(
      step("stuck", exec_state({"/bin/sh", "-c", "echo $$ > \"$0\"; exec sleep 30", pidfile},
                               {"true"}, false, 60s)),
      0s);
  const auto started = Clock::now();
  CHECK_FALSE(driver.undo_all(0s, "undo after abort", 500ms));
  CHECK(Clock::now() - started < 3s);
  REQUIRE(exists(pidfile));
  CHECK(process_gone(read_pid(pidfile)));
  const auto gaps = driver.state().not_undone;
  REQUIRE(gaps.size() == 1);
  CHECK(gaps[0].target == "stuck");
  CHECK(gaps[0].error.find("undo budget") != std::string::npos);
  REQUIRE(driver.events().size() == 1);
  CHECK(driver.events()[0].error.find("cancelled") != std::string::npos);
}

TEST_CASE("argv is passed without a shell unless shell is set") {
  TempDir dir("exec-driver");
  ExecDriver driver(options_in(dir));
  const std::string marker = dir / "marker";
  driver.apply(step("plain", exec_state({"echo", "a;", "touch", marker, "$HOME"}, {})), 0s);
  REQUIRE(wait_events(driver, 1));
  CHECK(driver.events()[0].ok);
  CHECK_FALSE(exists(marker));
  const auto log = read_whole_file(driver.log_path("plain"));
  REQUIRE(log);
  CHECK(log->find("\na; touch " + marker + " $HOME\n") != std::string::npos);

  driver.apply(step("shell", exec_state({"echo b; touch " + marker}, {}, true)), 1s);
  REQUIRE(wait_events(driver, 2));
  CHECK(driver.events()[1].ok);
  CHECK(exists(marker));
}

TEST_CASE("a hook moved to another state is undone before the new state runs") {
  TempDir dir("exec-driver");
  ExecDriver driver(options_in(dir));
  const std::string a = dir / "a";
  const std::string b = dir / "b";
  const std::string state_a = exec_state({"touch", a}, {"rm", a});
  const std::string state_b = exec_state({"touch", b}, {"rm", b});
  driver.apply(step("flip", state_a), 0s);
  REQUIRE(wait_events(driver, 1));
  driver.apply(step("flip", state_b, 1s), 1s);
  REQUIRE(wait_events(driver, 3));
  CHECK(driver.settled());
  CHECK_FALSE(exists(a));
  CHECK(exists(b));
  const auto events = driver.events();
  CHECK(events[1].action == "undo");
  CHECK(events[1].state_json == state_a);
  CHECK(events[2].action == "run");
  CHECK(events[2].state_json == state_b);
  CHECK(driver.undo_all(2s, "undo at end", 5s));
  CHECK_FALSE(exists(b));
}

TEST_CASE("exec states that are not commands are refused") {
  CHECK_THROWS_AS(parse_exec_state("{}"), std::invalid_argument);
  CHECK_THROWS_AS(parse_exec_state(R"({"run":[]})"), std::invalid_argument);
  CHECK_THROWS_AS(parse_exec_state(R"({"run":["a","b"],"shell":true})"), std::invalid_argument);
  CHECK_THROWS_AS(parse_exec_state(R"({"run":["a"],"timeout_us":0})"), std::invalid_argument);
  CHECK_THROWS_AS(parse_exec_state(R"({"run":["a"],"extra":1})"), std::invalid_argument);
  const ExecCommandSpec spec =
      parse_exec_state(R"({"run":["a","b"],"undo":["c"],"shell":false,"timeout_us":1500})");
  CHECK(spec.run == std::vector<std::string>{"a", "b"});
  CHECK(spec.undo == std::vector<std::string>{"c"});
  CHECK(spec.timeout == 1500us);
}

}  // namespace
}  // namespace faultline
