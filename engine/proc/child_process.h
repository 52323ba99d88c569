// A child process that faultline (or a test) started and therefore owns, together with
// everything it starts in turn: its stdout and stderr go to files (kept as service logs), it can
// wait for a readiness line on stdout, and it is stopped by process group, never by name. The
// destructor stops a group that was not stopped yet.
//
// Why a process group: a service is often a shell line (`sh -c "cd x && server {port}"`), so
// the process we fork is not the one that listens. The child makes itself the leader of a new
// group before exec (pgid == pid()); whatever it forks stays in that group unless it moves
// itself out (setsid/setpgid, as daemons do: those are out of reach).
//
// stop(): SIGCONT + SIGTERM to the group, up to `grace` for every member to exit, then SIGKILL
// to the group; done when kill(-pgid, 0) fails with ESRCH. A dead member stays in its group
// until it is reaped, so "gone" needs the leader reaped (we are its parent) and the orphaned
// members reaped too. Orphans are reparented to the nearest "child subreaper" ancestor, else to
// PID 1 - and a container's PID 1 may reap late (the one we develop in polls about every 2 s)
// or never (`docker run` without --init), which would keep the group non-empty for that long or
// forever. So spawn() makes the owning process a child subreaper (PR_SET_CHILD_SUBREAPER,
// process-wide, idempotent): orphans of our groups come to us and stop() reaps them with
// waitpid(-pgid). The cost: an orphan that left its group (a daemon) and dies becomes our
// zombie until we exit.
//
// When the owner dies without stopping the group (kill -9, a crash), it cannot signal anything.
// Two mechanisms cover that, both only when ChildSpec::die_with_parent:
//  - the direct child has PR_SET_PDEATHSIG(SIGTERM). It is not inherited by grandchildren, and
//    it fires when the *thread* that called spawn() exits, so spawn from a long-lived thread;
//  - a watchdog per child: a small process forked from the owner (no exec), in its own group,
//    ignoring SIGINT/SIGTERM/SIGHUP/SIGQUIT, holding the read end of a pipe whose only writer
//    is the owner (close-on-exec; the watchdog closes every other descriptor, so no sibling
//    watchdog keeps another's pipe open). Nothing is ever written: when the owner dies the
//    kernel closes the write end, the watchdog reads EOF, sends SIGTERM to the group, waits up
//    to ChildSpec::watchdog_grace, sends SIGKILL to the group and exits. stop() dismisses it
//    (SIGKILL by PID, reaped) only after the group is confirmed gone.
//    The child does not exec until the watchdog exists (it waits for a byte from the owner;
//    EOF there means the owner died first), so there is no window in which a tree could start
//    uncovered.
// A PID is not reused while any process still has it as its group id, so signalling -pgid
// reaches only our group as long as it has members.
//
// Thread-safety: one owner thread per ChildProcess.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace faultline {

struct ChildSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::vector<std::pair<std::string, std::string>> env;  // added to (or replacing in) ours
  std::string cwd;                                       // empty: inherit
  std::string stdout_path;                               // required: where stdout goes (appended)
  std::string stderr_path;                               // empty: same file as stdout
  // The group does not outlive its owner: PR_SET_PDEATHSIG(SIGTERM) on the child and a
  // watchdog for the rest of the group (see the top of this file).
  bool die_with_parent = true;
  // After the owner died: how long the watchdog waits between SIGTERM and SIGKILL.
  std::chrono::milliseconds watchdog_grace{3000};
};

class ChildProcess {
 public:
  // Starts the child (and its watchdog). Throws EnvironmentError when it cannot be started
  // (exec failure is reported, not only fork failure).
  static ChildProcess spawn(const ChildSpec& spec);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // The child's PID, which is also its process group id.
  pid_t pid() const { return pid_; }
  // The watchdog's PID, or -1 when there is none (die_with_parent off, or dismissed by stop()).
  pid_t watchdog_pid() const { return watchdog_pid_; }
  const ChildSpec& spec() const { return spec_; }

  // Waits until a line of stdout satisfies `match`, returning that line. Returns nullopt on
  // timeout or when the child exits first (see exit_status()).
  std::optional<std::string> wait_for_line(const std::function<bool(const std::string&)>& match,
                                           std::chrono::milliseconds timeout);

  // Non-blocking: true while the child itself has not exited (reaps it when it has). Members
  // of its group may outlive it; stop() takes care of them.
  bool running();

  // Exit status of the child as from waitpid (use WIFEXITED etc.) once it has exited.
  std::optional<int> exit_status() const { return status_; }

  // Sends `sig` to the whole group (until stop()), so that SIGSTOP or SIGTERM reach the server
  // behind a shell too. False (errno set) when kill() failed or stop() was done.
  bool send_signal(int sig);

  // Waits up to `timeout` for the child itself to exit. Returns the status if it exited.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);

  // SIGTERM to the group, SIGKILL to the group after `grace`, then waits (bounded) until the
  // group is empty; see the top of this file. Returns the child's exit status. Idempotent;
  // also stops the group's survivors when the child itself has already exited.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));

  // True once stop() saw the group empty (kill(-pgid, 0) == ESRCH). False after stop() only
  // when a member outlived SIGKILL for kGoneTimeout (uninterruptible sleep, or an orphan
  // reparented elsewhere before we became a subreaper).
  bool group_gone() const { return group_gone_; }
  static constexpr std::chrono::milliseconds kGoneTimeout{5000};

  // The last `max_bytes` of the child's stderr (or stdout) file, for error messages.
  std::string log_tail(size_t max_bytes = 2000) const;

 private:
  ChildProcess() = default;
  // Reaps the child and any member of its group that is our child; true when the group has
  // no process left.
  bool reap_group();
  bool wait_group_gone(std::chrono::milliseconds timeout);
  void dismiss_watchdog();

  pid_t pid_ = -1;
  std::optional<int> status_;
  bool stopped_ = false;
  bool group_gone_ = false;
  pid_t watchdog_pid_ = -1;
  int watchdog_fd_ = -1;  // write end of the watchdog's pipe; never written, closed last
  ChildSpec spec_;
};

// The live members of a process group, from /proc: how many, and how many of them are
// stopped (SIGSTOP, state T or t). Zombies do not count. A racy snapshot, as any view of
// other processes is.
struct GroupMembers {
  int live = 0;
  int stopped = 0;
};
GroupMembers count_group_members(pid_t pgid);

// A port that was free on 127.0.0.1 a moment ago (bind to port 0, read it, close). Racy by
// nature: callers that start a server on it retry on "address in use".
int pick_free_port();

}  // namespace faultline
