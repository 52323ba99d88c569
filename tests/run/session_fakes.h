// Fakes of the run session's ports (run/run_session.h): a clock that jumps, services,
// traffic and a fault driver that record what the session asked of them and fail on cue.
// Time is plan time; nothing here sleeps.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "run/run_session.h"

namespace faultline::testing {

class FakeClock : public SessionClock {
 public:
  void start(Duration lead) override { now_ = -lead; }
  Duration now() const override { return now_; }
  void sleep(Duration d) override {
    now_ += d;
    if (on_sleep) on_sleep(now_);
  }
  std::function<void(Duration)> on_sleep;  // runs after each jump

 private:
  Duration now_{0};
};

class FakeServices : public SessionServices {
 public:
  void start(const std::set<std::string>& needed,
             const std::function<bool()>& interrupted) override {
    started = needed;
    if (start_polls_interrupt) {
      // Like ServiceLauncher waiting for readiness: poll until interrupted (bounded).
      for (int i = 0; i < 1000; ++i) {
        if (before_poll) before_poll(i);
        if (interrupted()) throw Error(ExitCode::kInterrupted, "interrupted during start-up");
      }
      throw EnvironmentError("fake service never became ready");
    }
  }
  std::optional<std::string> exited() override {
    if (exit_message && clock && clock->now() >= exit_at) return exit_message;
    return std::nullopt;
  }
  void stop_all() override { ++stops; }

  std::set<std::string> started;
  bool start_polls_interrupt = false;
  std::function<void(int)> before_poll;
  const FakeClock* clock = nullptr;
  Duration exit_at{0};
  std::optional<std::string> exit_message;
  int stops = 0;
};

class FakeTraffic : public SessionTraffic {
 public:
  FakeTraffic(const FakeClock& clock, Duration total) : clock_(clock), total_(total) {}
  void start() override { started = true; }
  void stop(StopMode mode) override { stops.push_back(mode); }
  bool done() const override { return clock_.now() >= total_ || !stops.empty() || failed(); }
  std::optional<std::string> failure() const override {
    if (failed()) return fail_message;
    return std::nullopt;
  }
  LoadCounters counters() const override { return {}; }
  void await_scrapes(Duration) override { ++scrape_waits; }
  void finish() override {
    ++finishes;
    if (finish_throws) throw std::runtime_error(*finish_throws);
  }

  bool started = false;
  std::vector<StopMode> stops;
  int scrape_waits = 0, finishes = 0;
  std::optional<Duration> fail_at;
  std::string fail_message = "the sample sink threw: disk full";
  std::optional<std::string> finish_throws;

 private:
  bool failed() const { return fail_at && clock_.now() >= *fail_at; }
  const FakeClock& clock_;
  Duration total_;
};

// Records every call; applies are confirmed at once unless told otherwise.
class FakeDriver : public FaultDriver {
 public:
  std::string_view kind() const override { return "fake"; }
  bool handles(const FaultStep&) const override { return true; }
  void preflight(const Plan&) override {
    calls.push_back("preflight");
    if (preflight_throws) throw EnvironmentError(*preflight_throws);
  }
  void apply(const FaultStep& step, Duration now) override {
    calls.push_back("apply " + step.state_json + " at " + format_duration(now));
    held = step.state_json;
    if (fail_apply_of == step.state_json)
      state_.apply_failures.push_back("applying " + step.state_json + " failed: HTTP 500");
  }
  void tick(Duration) override { ++ticks; }
  bool undo_all(Duration, const std::string& reason, Duration) override {
    calls.push_back(reason);
    if (undo_fails) {
      state_.not_undone.push_back({"knobs", "api", held, "timeout"});
      return false;
    }
    held = "{}";
    return true;
  }
  bool settled() const override { return !never_settles; }
  FaultState state() const override { return state_; }
  std::vector<FaultEvent> events() const override { return {}; }

  std::vector<std::string> calls;
  std::string held = "{}";
  int ticks = 0;
  bool undo_fails = false, never_settles = false;
  std::optional<std::string> fail_apply_of, preflight_throws;

 private:
  FaultState state_;
};

// A MetricSource whose client error rate is `error_rate` for every window (abort_if tests).
class FixedSource : public judge::MetricSource {
 public:
  judge::Observed client(const judge::TimeWindow&, const judge::ClientQuery&) const override {
    return {error_rate, 1000, ""};
  }
  judge::Observed server(const judge::TimeWindow&, const judge::ServerQuery&) const override {
    return {std::nullopt, 0, "no scrapes"};
  }
  std::optional<double> error_rate;
};

}  // namespace faultline::testing
