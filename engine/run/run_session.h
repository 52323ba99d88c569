// RunSession: the control loop of one run, over small ports that tests fake.
//
// The session brings up the services, preflights the fault drivers, applies the faults due
// at time 0, starts the traffic, and then, every tick until the plan ends: stops on a signal,
// ends the run when a service died or a fault could not be applied, applies due fault steps,
// lets the drivers renew and retry, checks abort_if once a second and reports progress.
// Whatever ends it, the cleanup runs in the same order: every fault driver undoes
// (bounded by undo_budget), the traffic finishes, the services stop. A run whose undo could
// not be confirmed is an environment error naming the service and what it may still hold.
//
// The ports do the I/O; the session only decides. Production ports live in runner.cc.
// Thread-safety: run() is called once, on the thread that owns the ports.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/units.h"
#include "faults/fault_driver.h"
#include "judge/metric_source.h"
#include "plan/plan.h"
#include "report/report.h"
#include "run/load_engine.h"

namespace faultline {

// Plan time. Before start() it reads negative or zero; sleep() may be a fake's jump.
class SessionClock {
 public:
  virtual ~SessionClock() = default;
  // Fixes plan time 0 at `lead` from now.
  virtual void start(Duration lead) = 0;
  virtual Duration now() const = 0;
  virtual void sleep(Duration d) = 0;
};

// The environment's services.
class SessionServices {
 public:
  virtual ~SessionServices() = default;
  // Starts what the plan needs. `interrupted` is polled while waiting for readiness; when it
  // turns true, start() throws Error(kInterrupted). Throws EnvironmentError on failure.
  virtual void start(const std::set<std::string>& needed,
                     const std::function<bool()>& interrupted) = 0;
  // A service faultline started that has exited since, in words, or nullopt.
  virtual std::optional<std::string> exited() = 0;
  virtual void stop_all() = 0;
};

// The open-loop traffic, its recording, and the scrapes that ride with it.
class SessionTraffic {
 public:
  virtual ~SessionTraffic() = default;
  // Starts sending; arrival times count from the clock's plan time 0.
  virtual void start() = 0;
  virtual void stop(StopMode mode) = 0;
  // Every arrival has its sample (or the traffic ended on a failure).
  virtual bool done() const = 0;
  // Why the traffic or its recording failed (a sink threw, the disk is full), or nullopt.
  virtual std::optional<std::string> failure() const = 0;
  virtual LoadCounters counters() const = 0;
  // Waits up to `timeout` for scrapes still under way (the last one completes the picture).
  virtual void await_scrapes(Duration timeout) = 0;
  // Ends everything and flushes the recording. Throws on a failure not reported yet.
  virtual void finish() = 0;
};

// The scenario's setup and verify hooks (run/hooks.h).
class SessionHooks {
 public:
  virtual ~SessionHooks() = default;
  // Runs the setup hooks in order. Throws EnvironmentError naming the first that failed.
  virtual void setup() = 0;
  // Runs every verify hook in order; the first failure, naming its hook, or nullopt.
  virtual std::optional<std::string> verify() = 0;
};

struct SessionProgress {
  Duration elapsed{0};
  const PhaseWindow* phase = nullptr;  // null after the last phase
  LoadCounters counters;
};

struct SessionOptions {
  Duration tick = std::chrono::milliseconds(20);
  Duration start_lead = std::chrono::milliseconds(300);
  // How long the faults due at time 0 may take to be confirmed before traffic starts.
  Duration initial_apply_timeout = std::chrono::seconds(10);
  // How long the undo at the end may retry before the run gives up confirming it.
  Duration undo_budget = std::chrono::seconds(5);
  Duration final_scrape_wait = std::chrono::seconds(3);
};

struct SessionOutcome {
  RunStatus status = RunStatus::kPassed;  // kPassed: ran to its end (not yet judged)
  std::string detail;                     // why it ended otherwise
  bool environment_failed = false;
  bool traffic_started = false;
  std::string abort_condition;
  Duration aborted_at{0};
  Duration elapsed{0};
  bool faults_undone = true;
  std::vector<UndoGap> not_undone;
  std::vector<std::string> undo_reasons;  // which undo ran ("undo at end", ...)
};

class RunSession {
 public:
  // Every reference must outlive run(). `stop_signal` returns the signal that asked the run
  // to stop (SIGINT, SIGTERM) or 0. `observations` answers abort_if.
  RunSession(const Plan& plan, SessionOptions options, SessionClock& clock,
             SessionServices& services, std::vector<FaultDriver*> drivers, SessionTraffic& traffic,
             const judge::MetricSource& observations, std::function<int()> stop_signal,
             std::function<void(const SessionProgress&)> progress);

  SessionOutcome run();

  // Called once when the cleanup starts, with the undo's reason and budget (so a user who
  // pressed Ctrl-C learns why faultline has not exited yet).
  void on_cleanup(std::function<void(const std::string&, Duration)> f) {
    on_cleanup_ = std::move(f);
  }
  // Setup hooks run after the preflight, before the clock starts (a failure sends nothing);
  // verify hooks in the cleanup, after the traffic finished and the faults were undone, before
  // the services stop, when the traffic ran to its end or an abort_if stopped it (not after an
  // interrupt, an environment error or an unconfirmed undo). Not owned; may be null.
  void set_hooks(SessionHooks* hooks) { hooks_ = hooks; }

 private:
  bool apply_initial_faults();
  bool loop();
  void fail_environment(const std::string& why);
  void cleanup();
  FaultDriver& driver_for(const FaultStep& step);
  std::optional<std::string> fault_failure() const;

  const Plan& plan_;
  SessionOptions options_;
  SessionClock& clock_;
  SessionServices& services_;
  std::vector<FaultDriver*> drivers_;
  SessionTraffic& traffic_;
  const judge::MetricSource& observations_;
  std::function<int()> stop_signal_;
  std::function<void(const SessionProgress&)> progress_;
  std::function<void(const std::string&, Duration)> on_cleanup_;
  SessionHooks* hooks_ = nullptr;
  SessionOutcome out_;
  size_t next_step_ = 0;
};

}  // namespace faultline
