// ProcessDriver over a fake ProcessControl: which calls each process fault makes, in what
// order, when a crash loop starts again, and how lifting, undo and failures behave. Plan times
// are given by the test; real time only passes while a background action completes (awaited
// against a deadline).
#include <doctest/doctest.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/error.h"
#include "faults/process_driver.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;
using Status = ProcessControl::Status;

// Instances whose status follows the calls: stop -> down, start -> running, SIGSTOP -> paused,
// SIGCONT -> running. Records every call ("kill api#0", "terminate api#0 250ms", "start api#0",
// "signal api#0 STOP").
struct FakeControl : ProcessControl {
  std::mutex mutex;
  std::condition_variable cv;
  std::map<std::string, Status> status;  // instance -> status; the instances there are
  std::vector<std::string> calls;
  std::set<std::string> not_ours;  // services given by URL
  int start_failures_left = 0;     // starts that fail before one succeeds
  bool signals_fail = false;
  bool block_starts = false;  // starts wait for `release` (bounded, so a bug cannot hang)
  bool release = false;

  explicit FakeControl(std::vector<std::string> names = {"api#0"}) {
    for (const auto& n : names) status[n] = Status::kRunning;
  }

  std::vector<std::string> instances(const std::string& target, std::string* why) override {
    std::lock_guard<std::mutex> lock(mutex);
    if (not_ours.count(target)) {
      *why = "not started by faultline";
      return {};
    }
    std::vector<std::string> out;
    for (const auto& [name, s] : status)
      if (name == target || name.rfind(target + "#", 0) == 0) out.push_back(name);
    if (out.empty()) *why = "no instance " + target;
    return out;
  }
  std::string signal_instance(const std::string& instance, int sig) override {
    std::lock_guard<std::mutex> lock(mutex);
    calls.push_back("signal " + instance + (sig == SIGSTOP ? " STOP" : " CONT"));
    if (signals_fail) return "Operation not permitted";
    status[instance] = sig == SIGSTOP ? Status::kPaused : Status::kRunning;
    return "";
  }
  std::string stop_instance(const std::string& instance, bool kill_at_once,
                            Duration grace) override {
    std::lock_guard<std::mutex> lock(mutex);
    calls.push_back(kill_at_once ? "kill " + instance
                                 : "terminate " + instance + " " + format_duration(grace));
    status[instance] = Status::kDown;
    return "";
  }
  std::string start_instance(const std::string& instance) override {
    std::unique_lock<std::mutex> lock(mutex);
    calls.push_back("start " + instance);
    if (block_starts) cv.wait_for(lock, 5s, [&] { return release; });
    if (start_failures_left > 0) {
      --start_failures_left;
      return "not ready within 1s";
    }
    status[instance] = Status::kRunning;
    return "";
  }
  Status instance_status(const std::string& instance) override {
    std::lock_guard<std::mutex> lock(mutex);
    return status[instance];
  }

  std::vector<std::string> calls_now() {
    std::lock_guard<std::mutex> lock(mutex);
    return calls;
  }
  size_t count(const std::string& prefix) {
    size_t n = 0;
    for (const auto& c : calls_now()) n += c.rfind(prefix, 0) == 0;
    return n;
  }
};

FaultStep step(const std::string& target, const std::string& state, Duration at = 0us) {
  FaultStep s;
  s.at = at;
  s.phase = "fault";
  s.kind = "process";
  s.target = target;
  s.state_json = state;
  return s;
}

// Ticks at plan time `now` until `done` (or 5 s of real time: a bug fails, it does not hang).
bool pump(ProcessDriver& d, Duration now, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (true) {
    d.tick(now);
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
}

bool settle(ProcessDriver& d, Duration now) {
  return pump(d, now, [&] { return d.settled(); });
}

std::vector<std::string> actions(const ProcessDriver& d) {
  std::vector<std::string> out;
  for (const auto& e : d.events())
    out.push_back(e.action + " " + e.target + (e.ok ? "" : " FAILED"));
  return out;
}

TEST_CASE("kill sends SIGKILL at once and lifting the fault starts the instance again") {
  FakeControl c;
  ProcessDriver d(c);
  d.apply(step("api", R"({"action":"kill"})"), 1s);
  REQUIRE(settle(d, 1s));
  CHECK(c.calls_now() == std::vector<std::string>{"kill api#0"});
  CHECK(c.instance_status("api#0") == Status::kDown);
  d.apply(step("api", "{}", 3s), 3s);
  REQUIRE(settle(d, 3s));
  CHECK(c.calls_now() == std::vector<std::string>{"kill api#0", "start api#0"});
  CHECK(actions(d) == std::vector<std::string>{"kill api#0", "start api#0"});
  const FaultEvent start = d.events().back();
  CHECK(start.at >= 3s);
  CHECK(start.kind == "process");
  CHECK(start.ready_after == start.call_latency);
  CHECK(d.state().apply_failures.empty());
  CHECK(d.state().not_undone.empty());
}

TEST_CASE("terminate passes the grace, restart stops with the grace and starts again") {
  FakeControl c;
  ProcessDriver d(c);
  d.apply(step("api#0", R"({"action":"terminate","grace_us":250000})"), 0s);
  REQUIRE(settle(d, 0s));
  CHECK(c.calls_now() == std::vector<std::string>{"terminate api#0 250ms"});
  d.apply(step("api#0", R"({"action":"restart","grace_us":100000})"), 1s);
  REQUIRE(settle(d, 1s));
  // Already down when the restart came: it is only started.
  CHECK(c.calls_now() == std::vector<std::string>{"terminate api#0 250ms", "start api#0"});
  d.apply(step("api#0", "{}"), 2s);
  d.apply(step("api#0", R"({"action":"restart","grace_us":100000})"), 3s);
  REQUIRE(settle(d, 3s));
  CHECK(c.count("terminate api#0 100ms") == 1);
  CHECK(c.count("start") == 2);
  CHECK(actions(d).back() == "start api#0");
  CHECK(actions(d)[actions(d).size() - 2] == "stop api#0");
  // A restart is done once: more ticks under the same step change nothing.
  const size_t calls = c.calls_now().size();
  d.tick(4s);
  CHECK(c.calls_now().size() == calls);
}

TEST_CASE("pause stops the group and lifting it continues the group") {
  FakeControl c;
  ProcessDriver d(c);
  d.apply(step("api", R"({"action":"pause"})"), 0s);
  REQUIRE(settle(d, 0s));
  CHECK(c.instance_status("api#0") == Status::kPaused);
  d.apply(step("api", "{}"), 1s);
  REQUIRE(settle(d, 1s));
  CHECK(c.calls_now() == std::vector<std::string>{"signal api#0 STOP", "signal api#0 CONT"});
  CHECK(actions(d) == std::vector<std::string>{"pause api#0", "resume api#0"});
}

TEST_CASE("a crash loop kills and starts again restart_after later, N rounds, then stays up") {
  FakeControl c;
  ProcessDriver d(c);
  d.apply(step("api", R"({"action":"kill","restart_after_us":100000,"restarts":3})"), 0s);
  Duration now = 0s;
  for (int round = 1; round <= 3; ++round) {
    REQUIRE(pump(d, now, [&] { return c.count("kill") == static_cast<size_t>(round); }));
    // Down, and not started again before restart_after has passed.
    REQUIRE(pump(d, now, [&] { return c.instance_status("api#0") == Status::kDown; }));
    for (int i = 0; i < 20; ++i) d.tick(now + 50ms);
    CHECK(c.count("start") == static_cast<size_t>(round - 1));
    CHECK_FALSE(d.settled());
    now += 200ms;
    REQUIRE(pump(d, now, [&] { return c.count("start") == static_cast<size_t>(round); }));
  }
  REQUIRE(settle(d, now));
  CHECK(c.count("kill") == 3);
  CHECK(c.count("start") == 3);
  CHECK(c.instance_status("api#0") == Status::kRunning);
  for (int i = 0; i < 20; ++i) d.tick(now + 10s);
  CHECK(c.count("kill") == 3);  // the last start stays up
  const auto ev = d.events();
  REQUIRE(ev.size() == 6);
  for (size_t i = 0; i + 1 < ev.size(); i += 2) {
    CHECK(ev[i].action == "kill");
    CHECK(ev[i + 1].action == "start");
    CHECK(ev[i + 1].at - ev[i].at >= 100ms);
  }
}

TEST_CASE("lifting a crash loop midway starts the instance and kills it no more") {
  FakeControl c;
  ProcessDriver d(c);
  d.apply(
      step("api", R"({"action":"terminate","grace_us":0,"restart_after_us":100000,"restarts":5})"),
      0s);
  REQUIRE(pump(d, 0s, [&] { return c.instance_status("api#0") == Status::kDown; }));
  d.apply(step("api", "{}"), 50ms);
  REQUIRE(settle(d, 50ms));
  for (int i = 0; i < 20; ++i) d.tick(10s);
  CHECK(c.calls_now() == std::vector<std::string>{"terminate api#0 0s", "start api#0"});
  CHECK(c.instance_status("api#0") == Status::kRunning);
}

TEST_CASE("a service target acts on every instance, an instance target on that one") {
  FakeControl c({"api#0", "api#1", "db#0"});
  ProcessDriver d(c);
  d.apply(step("api", R"({"action":"kill"})"), 0s);
  REQUIRE(settle(d, 0s));
  CHECK(c.count("kill api#0") == 1);
  CHECK(c.count("kill api#1") == 1);
  CHECK(c.count("kill db#0") == 0);
  d.apply(step("db#0", R"({"action":"pause"})"), 1s);
  REQUIRE(settle(d, 1s));
  CHECK(c.count("signal db#0 STOP") == 1);
  CHECK(c.count("signal api") == 0);
}

TEST_CASE("faults that cannot be applied are apply failures") {
  FakeControl c;
  c.not_ours.insert("web");
  ProcessDriver d(c);
  d.apply(step("api#3", R"({"action":"kill"})"), 0s);
  d.apply(step("web", R"({"action":"kill"})"), 0s);
  d.apply(step("api", R"({"action":"explode"})"), 0s);
  auto failures = d.state().apply_failures;
  REQUIRE(failures.size() == 3);
  CHECK(failures[0].find("no instance api#3") != std::string::npos);
  CHECK(failures[1].find("not started by faultline") != std::string::npos);
  CHECK(failures[2].find("cannot read state") != std::string::npos);
  CHECK(c.calls_now().empty());

  c.signals_fail = true;
  d.apply(step("api", R"({"action":"pause"})"), 1s);
  REQUIRE(pump(d, 1s, [&] { return d.state().apply_failures.size() == 4; }));
  CHECK(d.state().apply_failures[3].find("Operation not permitted") != std::string::npos);
  CHECK_FALSE(d.settled());
  // A failed fault is not tried again.
  for (int i = 0; i < 20; ++i) d.tick(5s);
  CHECK(c.count("signal") == 1);
}

TEST_CASE("a start that fails inside a crash loop is an apply failure") {
  FakeControl c;
  c.start_failures_left = 1;
  ProcessDriver d(c);
  d.apply(step("api", R"({"action":"kill","restart_after_us":0,"restarts":2})"), 0s);
  REQUIRE(pump(d, 0s, [&] { return !d.state().apply_failures.empty(); }));
  CHECK(d.state().apply_failures[0].find("not ready within 1s") != std::string::npos);
  CHECK(actions(d) == std::vector<std::string>{"kill api#0", "start api#0 FAILED"});
}

TEST_CASE("apply and tick do not wait for a start under way") {
  FakeControl c;
  ProcessDriver d(c);
  d.apply(step("api", R"({"action":"kill"})"), 0s);
  REQUIRE(settle(d, 0s));
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    c.block_starts = true;
  }
  const auto t0 = std::chrono::steady_clock::now();
  d.apply(step("api", "{}"), 1s);
  REQUIRE(pump(d, 1s, [&] { return c.count("start") == 1; }));
  for (int i = 0; i < 10; ++i) d.tick(1s);
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  CHECK_FALSE(d.settled());
  CHECK(d.events().size() == 1);  // the start is not collected yet
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    c.release = true;
  }
  c.cv.notify_all();
  REQUIRE(settle(d, 1s));
  CHECK(actions(d) == std::vector<std::string>{"kill api#0", "start api#0"});
}

TEST_CASE("undo_all starts what is down and continues what is paused") {
  FakeControl c({"api#0", "db#0", "idle#0"});
  ProcessDriver d(c);
  d.apply(step("api", R"({"action":"kill","restart_after_us":60000000,"restarts":2})"), 0s);
  d.apply(step("db", R"({"action":"pause"})"), 0s);
  REQUIRE(pump(d, 0s, [&] { return c.count("kill") == 1 && c.count("signal") == 1; }));
  d.tick(0s);
  CHECK_FALSE(d.settled());  // the crash loop waits for its restart_after
  CHECK(d.undo_all(1s, "end", 5s));
  CHECK(c.instance_status("api#0") == Status::kRunning);
  CHECK(c.instance_status("db#0") == Status::kRunning);
  CHECK(c.count("signal db#0 CONT") == 1);
  CHECK(c.count("kill") == 1);
  CHECK(c.count("idle") == 0);
  for (const auto& e : d.events())
    if (e.action == "start" || e.action == "resume") CHECK(e.phase == "end");
  CHECK(d.state().not_undone.empty());
}

TEST_CASE("undo_all retries a failed start within its budget") {
  FakeControl c;
  ProcessDriver d(c, ProcessDriverOptions{2s, 20ms});
  d.apply(step("api", R"({"action":"kill"})"), 0s);
  REQUIRE(settle(d, 0s));
  c.start_failures_left = 2;
  CHECK(d.undo_all(1s, "end", 5s));
  CHECK(c.count("start") == 3);
  CHECK(d.state().apply_failures.empty());  // failed undos are not apply failures
}

TEST_CASE("undo_all reports an instance it cannot bring back") {
  FakeControl c;
  ProcessDriver d(c, ProcessDriverOptions{2s, 20ms});
  d.apply(step("api", R"({"action":"kill"})"), 0s);
  REQUIRE(settle(d, 0s));
  c.start_failures_left = 1000000;
  CHECK_FALSE(d.undo_all(1s, "interrupted", 200ms));
  const auto gaps = d.state().not_undone;
  REQUIRE(gaps.size() == 1);
  CHECK(gaps[0].kind == "process");
  CHECK(gaps[0].target == "api#0");
  CHECK(gaps[0].state_json == R"({"action":"kill"})");
  CHECK(gaps[0].error == "not ready within 1s");
  CHECK(c.count("start") >= 2);

  // Undoing a pause that SIGCONT cannot confirm is reported too.
  FakeControl p;
  ProcessDriver dp(p, ProcessDriverOptions{2s, 20ms});
  dp.apply(step("api", R"({"action":"pause"})"), 0s);
  REQUIRE(settle(dp, 0s));
  p.signals_fail = true;
  CHECK_FALSE(dp.undo_all(1s, "end", 100ms));
  REQUIRE(dp.state().not_undone.size() == 1);
  CHECK(dp.state().not_undone[0].error == "Operation not permitted");
}

TEST_CASE("preflight refuses targets that name no instance faultline runs") {
  FakeControl c;
  c.not_ours.insert("web");
  Plan plan;
  plan.fault_steps = {step("api", R"({"action":"kill"})"), step("api", "{}", 1s)};
  ProcessDriver ok(c);
  CHECK_NOTHROW(ok.preflight(plan));
  plan.fault_steps.push_back(step("web", R"({"action":"pause"})", 2s));
  ProcessDriver refused(c);
  CHECK_THROWS_WITH_AS(refused.preflight(plan),
                       doctest::Contains("'web': not started by faultline"), EnvironmentError);
  c.status["api#0"] = Status::kPaused;
  plan.fault_steps.pop_back();
  ProcessDriver paused(c);
  CHECK_THROWS_WITH_AS(paused.preflight(plan), doctest::Contains("api#0 is paused"),
                       EnvironmentError);
}

}  // namespace
}  // namespace faultline
