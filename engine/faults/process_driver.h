// ProcessDriver: process faults (plan.h, kind "process") on services faultline started:
// kill (SIGKILL to the group), terminate (SIGTERM, SIGKILL after grace), pause (SIGSTOP until
// lifted) and restart (terminate, start again on the same port, wait ready), with an optional
// start again `restart_after` a kill/terminate, repeated `restarts` times in all (a crash
// loop: once ready again the instance is killed again at once; the last start stays up).
//
// When a step lifts the fault ("{}") or at undo_all(), whatever is down is started again (and
// waited ready) and whatever is paused gets SIGCONT: baseline is "every instance running,
// not paused". undo_all() returns false, naming the instance in state().not_undone, when it
// cannot confirm that.
//
// The driver acts through ProcessControl (below), which the run side implements over the
// processes it started (faults/ sits below run/ and knows nothing of them). Every call to it
// that can take time (stop, start and its readiness wait, confirming a signal) runs on a
// background thread, at most one per instance at a time, and tick() collects the outcomes:
// apply() and tick() never block the session's loop.
//
// Thread-safety: one thread (the run session's) calls everything; background threads call
// the ProcessControl, never two at once for the same instance.
#pragma once

#include <functional>
#include <future>
#include <map>
#include <string>
#include <vector>

#include "faults/fault_driver.h"

namespace faultline {

// The port a ProcessDriver acts through. Instances are named "<service>#<index>" ("api#0").
// Every method may be called from a background thread, concurrently for different instances,
// never concurrently for the same instance (instances() excepted: it touches no process).
class ProcessControl {
 public:
  enum class Status {
    kRunning,       // up, no member of its process group stopped
    kPaused,        // every live member of its group stopped (SIGSTOP)
    kPartlyPaused,  // some members stopped, some not
    kDown,          // not running (taken down on purpose, or exited)
  };

  virtual ~ProcessControl() = default;

  // The instances `target` names: "api" every instance of the service, "api#1" that one. When
  // it names none that faultline can act on (unknown service or index, a service given by
  // URL), returns an empty list and sets *why.
  virtual std::vector<std::string> instances(const std::string& target, std::string* why) = 0;
  // Sends `sig` to the instance's process group. Returns "" or why it could not.
  virtual std::string signal_instance(const std::string& instance, int sig) = 0;
  // Takes the instance down on purpose, so that its exit is not an unexpected death: SIGKILL to
  // the group when `kill_at_once`, else SIGTERM (after SIGCONT) and SIGKILL after `grace`. Waits
  // (bounded) until the group is gone. Returns "" or why it could not.
  virtual std::string stop_instance(const std::string& instance, bool kill_at_once,
                                    Duration grace) = 0;
  // Starts a down instance again as it was first started (same port, command, environment, log
  // file) and waits until it is ready (bounded by its readiness timeout). "" when ready (or
  // already running), else why not.
  virtual std::string start_instance(const std::string& instance) = 0;
  virtual Status instance_status(const std::string& instance) = 0;
};

struct ProcessDriverOptions {
  // How long a signal's effect (SIGSTOP, SIGCONT) may take to show in instance_status().
  Duration confirm_timeout = std::chrono::seconds(2);
  // How often a failed undo (start, resume) is tried again while the run goes on.
  Duration retry_interval = std::chrono::seconds(1);
};

class ProcessDriver : public FaultDriver {
 public:
  explicit ProcessDriver(ProcessControl& control, ProcessDriverOptions options = {});
  // Waits for actions still running (each bounded by its own timeouts). Does not undo: the
  // session calls undo_all() on every path.
  ~ProcessDriver() override;
  ProcessDriver(const ProcessDriver&) = delete;
  ProcessDriver& operator=(const ProcessDriver&) = delete;

  std::string_view kind() const override { return "process"; }
  bool handles(const FaultStep& step) const override { return step.kind == "process"; }

  // Checks that every target of the plan's process steps names instances faultline started
  // and that they are running and not paused. Throws EnvironmentError naming the target.
  void preflight(const Plan& plan) override;
  void apply(const FaultStep& step, Duration now) override;
  void tick(Duration now) override;
  bool undo_all(Duration now, const std::string& reason, Duration budget) override;
  bool settled() const override;
  FaultState state() const override;
  std::vector<FaultEvent> events() const override { return events_; }

 private:
  // What the plan wants of an instance (a parsed process state; action "" = baseline).
  struct Want {
    std::string action;  // "", "kill", "terminate", "pause", "restart"
    Duration grace{0};
    bool restart = false;  // kill/terminate with restart_after
    Duration restart_after{0};
    int rounds = 1;  // kill/terminate: stops in all (restarts), 1 without restart_after
  };
  // What a background action reports back.
  struct Outcome {
    std::vector<FaultEvent> events;
    bool ok = false;
    std::string error;
    ProcessControl::Status status = ProcessControl::Status::kRunning;
    bool went_down = false;  // a stop succeeded, at plan time `down_at`
    Duration down_at{0};
    uint64_t episode = 0;    // the instance's episode when the action began
    std::string fault_json;  // the fault it was begun for ("" for an undo)
  };
  struct Instance {
    std::string name;
    Want want;
    std::string want_json = "{}";
    std::string phase;             // of the step that set `want`, or the undo's reason
    std::string held_json = "{}";  // the last fault state it was brought under
    ProcessControl::Status status = ProcessControl::Status::kRunning;
    bool touched = false;  // ever faulted (so it needs an undo)
    // Progress toward `want` since it was set.
    int stops = 0;   // kill/terminate rounds begun
    int starts = 0;  // starts after those
    bool restarted = false;
    Duration down_at{0};
    // A failed action is not tried again before this (undo paths only; a failed fault is an
    // apply failure and is not retried).
    Duration retry_at{0};
    bool failed = false;  // the current `want` failed
    std::string last_error;
    uint64_t episode = 0;  // counts wants set, so a late outcome knows whether it still counts
    std::future<Outcome> action;
  };

  Instance& instance(const std::string& name);
  // Starts the next action that moves `in` toward its want, if one is due. False when none.
  bool advance(Instance& in, Duration now);
  // Collects a finished action; returns false while it is still running.
  bool collect(Instance& in, Duration now, bool wait);
  // The instance is as its want says and nothing is under way or scheduled for it.
  bool satisfied(const Instance& in) const;
  // Runs `what` ("kill", "terminate", "pause", "resume", "restart", "start") on a background
  // thread.
  void launch(Instance& in, const std::string& what, Duration now);
  void set_want(Instance& in, const Want& want, const std::string& json, const std::string& phase);

  ProcessControl& control_;
  ProcessDriverOptions options_;
  std::map<std::string, Instance> instances_;
  std::vector<FaultEvent> events_;
  std::vector<std::string> apply_failures_;
};

}  // namespace faultline
