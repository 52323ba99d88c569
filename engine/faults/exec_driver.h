// ExecDriver: the `exec` fault kind. An exec hook is a command the platform uses to break
// something (docker pause, tc qdisc, systemctl stop): its `run` command is started when the
// plan turns the hook on and its `undo` command when the plan lifts it or the run ends. The
// step's target is the hook's name; its state is
//   {"run":[argv],"undo":[argv],"shell":bool,"timeout_us":N}    ("{}": lifted)
// argv is exec'd directly (PATH lookup for a bare name, no shell), so `;` or `$X` in an
// argument is passed literally; with "shell": true, run and undo are one string each, given to
// /bin/sh -c.
//
// Invariants:
//   - a hook runs one command at a time, in plan order: the `undo` of a state always comes
//     after its `run` has finished, and a hook moved to another state is undone first;
//   - `undo` runs once `run` was started (even when `run` failed or timed out: it may have
//     done part of its work), and not when `run` could not be started at all;
//   - each command has the state's timeout; a command that outlives it has its whole process
//     group stopped (SIGTERM, then SIGKILL after kill_grace). When a command exits, whatever it
//     left in its process group is stopped too: a hook is a command, not a service, and
//     nothing it starts may outlive the undo;
//   - the output of every command (stdout and stderr, nothing dropped) is appended to
//     <log_dir>/exec-<name>.log between a header line (argv, plan time) and a footer line
//     (exit status, duration);
//   - a `run` that exits non-zero, is killed or times out is an apply failure (state()) with
//     its status and the last lines of its output; an `undo` that fails is not retried by
//     tick() (commands need not be idempotent) but once more by undo_all(), and is reported in
//     state().not_undone until an undo succeeds.
//
// Commands run on background threads (std::async), one per command, which own the child
// process from spawn to reaping: apply() and tick() never wait for a command. That thread is
// the one that spawned the child, so the child's PR_SET_PDEATHSIG stays armed for as long as
// the command runs (proc/child_process.h); the watchdog covers a faultline killed with SIGKILL.
//
// Thread-safety: the run session's control thread calls everything.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "faults/fault_driver.h"

namespace faultline {

struct ExecDriverOptions {
  // Where each hook's log goes (exec-<name>.log); created by preflight() or the first command.
  std::string log_dir;
  // A command that outlived its timeout (or is cancelled by undo_all's budget) gets SIGTERM
  // on its process group, then SIGKILL after this grace.
  std::chrono::milliseconds kill_grace{1000};
};

// An exec state, parsed. Exposed for preflight and tests.
struct ExecCommandSpec {
  std::vector<std::string> run;
  std::vector<std::string> undo;  // empty: nothing to undo
  bool shell = false;
  Duration timeout{std::chrono::seconds(30)};  // each of run and undo
};

// Parses an exec state (see the top of this file). Throws std::invalid_argument saying what is
// wrong; "{}" is not a command and is refused too.
ExecCommandSpec parse_exec_state(const std::string& state_json);

class ExecDriver : public FaultDriver {
 public:
  explicit ExecDriver(ExecDriverOptions options);
  // Cancels the commands still running (their process groups are stopped) and waits for their
  // threads. Does not undo: the session calls undo_all() on every path.
  ~ExecDriver() override;
  ExecDriver(const ExecDriver&) = delete;
  ExecDriver& operator=(const ExecDriver&) = delete;

  std::string_view kind() const override { return "exec"; }
  bool handles(const FaultStep& step) const override { return step.kind == "exec"; }

  // Checks every exec step: its state parses and, unless shell, argv[0] of run and undo
  // resolves (PATH lookup for a bare name, an executable file for a path). Creates the log dir.
  // Throws EnvironmentError naming the hook.
  void preflight(const Plan& plan) override;
  void apply(const FaultStep& step, Duration now) override;
  void tick(Duration now) override;
  // Lifts every hook: waits for a running command (a `run` under way is let finish), then runs
  // the `undo` of every hook whose `run` was started and not undone yet, including an undo that
  // failed before. Blocks up to `budget`; a command still running then is cancelled (its
  // process group is stopped) and counts as failed.
  bool undo_all(Duration now, const std::string& reason, Duration budget) override;
  bool settled() const override;
  FaultState state() const override;
  std::vector<FaultEvent> events() const override { return events_; }

  // The log file of hook `name` (whether or not it exists yet).
  std::string log_path(const std::string& name) const;

 private:
  // What a background command reports back.
  struct Outcome {
    FaultEvent event;
    bool started = false;  // the process was spawned (so a `run` may have done something)
  };
  struct Hook {
    std::string name;
    std::string desired = "{}";  // the state the plan wants now
    std::string applied = "{}";  // the state whose `run` was started and is not undone yet
    std::string phase;           // of the step that set `desired`
    // The last command failed: nothing more is started for this hook until a new step comes
    // (or undo_all), so a failing command is not run again and again.
    bool blocked = false;
    std::string last_error;
    std::future<Outcome> call;  // the command under way, if any
    std::shared_ptr<std::atomic<bool>> cancel;
  };

  Hook& hook(const std::string& name);
  // Starts the next command that moves `h` toward `desired`, unless one runs or `h` is blocked.
  void advance(Hook& h, Duration now, const std::string& undo_reason);
  void start(Hook& h, Duration now, const std::string& action, const std::string& state,
             const std::vector<std::string>& argv, const ExecCommandSpec& spec,
             const std::string& phase);
  // Collects a finished command; returns false while it is still running.
  bool collect(Hook& h, bool wait);

  ExecDriverOptions options_;
  std::map<std::string, Hook> hooks_;
  std::vector<FaultEvent> events_;
  std::vector<std::string> apply_failures_;
};

}  // namespace faultline
