// The run session's failure paths, over fakes of every port (session_fakes.h): whatever ends
// a run, the faults are undone first, then the traffic finishes and the services stop, and a
// run whose undo is not confirmed never passes.
#include <doctest/doctest.h>

#include <csignal>

#include "common/error.h"
#include "run/run_session.h"
#include "session_fakes.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::FakeDriver;
using testing::FakeServices;
using testing::FakeTraffic;
using testing::FixedSource;

// warmup 0-1s, trigger 1-3s (api gets {"x":1}), cooldown 3-4s (api back to baseline).
Plan three_phase_plan() {
  Plan p;
  p.scenario_name = "session-test";
  p.target = "api";
  p.phases = {
      {"warmup", 0s, 1s, 10, 10}, {"trigger", 1s, 3s, 10, 10}, {"cooldown", 3s, 4s, 10, 10}};
  p.total = 4s;
  p.fault_steps = {{1s, "trigger", "knobs", "api", R"({"x":1})"},
                   {3s, "cooldown", "knobs", "api", "{}"}};
  p.guard.min_requests = 1;
  return p;
}

struct Harness {
  Plan plan = three_phase_plan();
  FakeClock clock;
  FakeServices services;
  FakeTraffic traffic{clock, plan.total};
  FakeDriver driver;
  FixedSource source;
  int signal = 0;
  std::function<int()> signal_at;  // overrides `signal` when set

  SessionOutcome run() {
    services.clock = &clock;
    RunSession session(
        plan, SessionOptions{}, clock, services, {&driver}, traffic, source,
        [&] { return signal_at ? signal_at() : signal; }, nullptr);
    return session.run();
  }
};

TEST_CASE("a run that ends normally applies each step at its time, then undoes, finishes, stops") {
  Harness h;
  const SessionOutcome out = h.run();
  CHECK(out.status == RunStatus::kPassed);
  CHECK(out.faults_undone);
  CHECK(h.driver.calls == std::vector<std::string>{"preflight", R"(apply {"x":1} at 1s)",
                                                   "apply {} at 3s", "undo at end"});
  CHECK(h.services.started == std::set<std::string>{"api"});
  CHECK(h.traffic.started);
  CHECK(h.traffic.stops.empty());
  CHECK(h.traffic.scrape_waits == 1);
  CHECK(h.traffic.finishes == 1);
  CHECK(h.services.stops == 1);
  CHECK(h.driver.ticks > 100);  // every 20 ms over 4 s
}

TEST_CASE("an undo that cannot be confirmed fails the run with exit 3, naming service and knobs") {
  Harness h;
  h.driver.undo_fails = true;
  const SessionOutcome out = h.run();
  CHECK(out.status == RunStatus::kEnvironmentError);
  CHECK(exit_code_of(out.status) == 3);
  CHECK_FALSE(out.faults_undone);
  REQUIRE(out.not_undone.size() == 1);
  CHECK(out.detail.find("could not be confirmed") != std::string::npos);
  CHECK(out.detail.find("api may still hold {}") != std::string::npos);
  CHECK(h.services.stops == 1);
}

TEST_CASE("an undo not confirmed after Ctrl-C is still exit 3, and the detail keeps both causes") {
  Harness h;
  h.driver.undo_fails = true;
  h.signal_at = [&] { return h.clock.now() >= 2s ? SIGINT : 0; };
  const SessionOutcome out = h.run();
  CHECK(out.status == RunStatus::kEnvironmentError);
  CHECK(out.detail.find("interrupted by SIGINT") != std::string::npos);
  CHECK(out.detail.find("could not be confirmed") != std::string::npos);
}

TEST_CASE("a service that dies mid-phase ends the run, aborts traffic and undoes the faults") {
  Harness h;
  h.services.exit_at = 1500ms;
  h.services.exit_message = "service 'payment' (pid 4242) exited (signal 9)";
  const SessionOutcome out = h.run();
  CHECK(out.status == RunStatus::kEnvironmentError);
  CHECK(out.detail == "service 'payment' (pid 4242) exited (signal 9) at 1.5s");
  CHECK(h.traffic.stops == std::vector<StopMode>{StopMode::kAbort});
  CHECK(h.driver.calls.back() == "undo after error");
  CHECK(h.driver.held == "{}");
  CHECK(h.traffic.finishes == 1);
  CHECK(h.services.stops == 1);
}

TEST_CASE("Ctrl-C while the services start: nothing is applied or sent, the services stop") {
  Harness h;
  h.services.start_polls_interrupt = true;
  h.services.before_poll = [&](int i) {
    if (i == 5) h.signal = SIGINT;
  };
  const SessionOutcome out = h.run();
  CHECK(out.status == RunStatus::kInterrupted);
  CHECK(exit_code_of(out.status) == 130);
  CHECK(out.detail == "interrupted during start-up");
  CHECK(h.driver.calls == std::vector<std::string>{"undo after interrupt"});
  CHECK_FALSE(h.traffic.started);
  CHECK(h.services.stops == 1);
}

TEST_CASE("Ctrl-C mid-trigger aborts the traffic and undoes before exiting 130") {
  Harness h;
  h.signal_at = [&] { return h.clock.now() >= 2s ? SIGTERM : 0; };
  const SessionOutcome out = h.run();
  CHECK(out.status == RunStatus::kInterrupted);
  CHECK(out.detail == "interrupted by SIGTERM at 2s");
  CHECK(out.faults_undone);
  CHECK(h.traffic.stops == std::vector<StopMode>{StopMode::kAbort});
  CHECK(h.driver.calls ==
        std::vector<std::string>{"preflight", R"(apply {"x":1} at 1s)", "undo after interrupt"});
  CHECK(h.traffic.scrape_waits == 0);  // an interrupted run does not wait for the last scrape
}

TEST_CASE("Ctrl-C while the first faults are being confirmed: no traffic, the faults are undone") {
  Harness h;
  h.plan.fault_steps.insert(h.plan.fault_steps.begin(),
                            {0s, "warmup", "knobs", "api", R"({"y":2})"});
  h.driver.never_settles = true;
  h.signal_at = [&] { return h.driver.ticks >= 3 ? SIGINT : 0; };
  const SessionOutcome out = h.run();
  CHECK(out.status == RunStatus::kInterrupted);
  CHECK(out.detail == "interrupted by SIGINT while applying the first faults");
  CHECK_FALSE(h.traffic.started);
  CHECK(h.driver.calls ==
        std::vector<std::string>{"preflight", R"(apply {"y":2} at 0s)", "undo after interrupt"});
}

TEST_CASE("first faults never confirmed: an environment error before any traffic") {
  Harness h;
  h.plan.fault_steps.insert(h.plan.fault_steps.begin(),
                            {0s, "warmup", "knobs", "api", R"({"y":2})"});
  h.driver.never_settles = true;
  const SessionOutcome out = h.run();
  CHECK(out.status == RunStatus::kEnvironmentError);
  CHECK(out.detail == "the faults due at the start were not confirmed within 10s");
  CHECK_FALSE(h.traffic.started);
  CHECK(h.driver.calls.back() == "undo after error");
}

TEST_CASE("a fault that cannot be applied ends the run as an environment error") {
  Harness h;
  h.driver.fail_apply_of = R"({"x":1})";
  const SessionOutcome out = h.run();
  CHECK(out.status == RunStatus::kEnvironmentError);
  CHECK(out.detail == R"(applying {"x":1} failed: HTTP 500)");
  CHECK(h.traffic.stops == std::vector<StopMode>{StopMode::kAbort});
  CHECK(h.driver.calls.back() == "undo after error");
  CHECK(out.elapsed == 1s);
}

TEST_CASE("an exception in a sink ends the run at once, with the faults undone") {
  Harness h;
  h.traffic.fail_at = 1500ms;
  const SessionOutcome out = h.run();
  CHECK(out.status == RunStatus::kEnvironmentError);
  CHECK(out.detail == "the sample sink threw: disk full");
  CHECK(out.elapsed == 1500ms);
  CHECK(h.driver.calls.back() == "undo after error");
  CHECK(h.traffic.finishes == 1);
  CHECK(h.services.stops == 1);
}

TEST_CASE("traffic that throws at finish still leaves the services stopped") {
  Harness h;
  h.traffic.finish_throws = "sample log: No space left on device";
  const SessionOutcome out = h.run();
  CHECK(out.status == RunStatus::kEnvironmentError);
  CHECK(out.detail == "traffic: sample log: No space left on device");
  CHECK(h.driver.calls.back() == "undo at end");
  CHECK(h.services.stops == 1);
}

TEST_CASE("a preflight that fails is an environment error and nothing is sent") {
  Harness h;
  h.driver.preflight_throws = "preflight: service 'api' does not offer knob 'x'";
  const SessionOutcome out = h.run();
  CHECK(out.status == RunStatus::kEnvironmentError);
  CHECK(out.detail == "preflight: service 'api' does not offer knob 'x'");
  CHECK_FALSE(h.traffic.started);
  CHECK(h.services.stops == 1);
}

TEST_CASE("abort_if stops the traffic by draining it and undoes the faults") {
  Harness h;
  h.plan.abort_if.push_back(plan_statement("during(trigger): error_rate > 50%", {},
                                           dsl::StatementKind::kAbortIf, "test"));
  h.source.error_rate = 0.9;
  const SessionOutcome out = h.run();
  CHECK(out.status == RunStatus::kAborted);
  CHECK(out.abort_condition == "during(trigger): error_rate > 50%");
  // Checked once a second; the trigger window first has traffic at the 2 s check.
  CHECK(out.aborted_at == 2s);
  CHECK(h.traffic.stops == std::vector<StopMode>{StopMode::kDrain});
  CHECK(h.driver.calls.back() == "undo after abort");
}

TEST_CASE("abort_if that does not hold lets the run end normally") {
  Harness h;
  h.plan.abort_if.push_back(plan_statement("during(trigger): error_rate > 50%", {},
                                           dsl::StatementKind::kAbortIf, "test"));
  h.source.error_rate = 0.1;
  const SessionOutcome out = h.run();
  CHECK(out.status == RunStatus::kPassed);
  CHECK(h.driver.calls.back() == "undo at end");
}

}  // namespace
}  // namespace faultline
