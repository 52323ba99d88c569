// A child process that faultline (or a test) started and therefore owns: its stdout and
// stderr go to files (kept as service logs), it can wait for a readiness line on stdout,
// and it is stopped by PID, never by name. The destructor stops a still-running child.
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
  bool die_with_parent = true;  // PR_SET_PDEATHSIG(SIGKILL): a killed owner leaves nothing
};

class ChildProcess {
 public:
  // Starts the child. Throws EnvironmentError when it cannot be started (exec failure is
  // reported, not only fork failure).
  static ChildProcess spawn(const ChildSpec& spec);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  const ChildSpec& spec() const { return spec_; }

  // Waits until a line of stdout satisfies `match`, returning that line. Returns nullopt on
  // timeout or when the child exits first (see exit_status()).
  std::optional<std::string> wait_for_line(const std::function<bool(const std::string&)>& match,
                                           std::chrono::milliseconds timeout);

  // Non-blocking: true while the child has not exited (reaps it when it has).
  bool running();

  // Exit status as from waitpid (use WIFEXITED etc.) once the child has exited.
  std::optional<int> exit_status() const { return status_; }

  void send_signal(int sig);

  // Waits up to `timeout` for exit. Returns the status if the child exited.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);

  // SIGTERM, then SIGKILL after `grace`. Returns the exit status. Idempotent.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));

  // The last `max_bytes` of the child's stderr (or stdout) file, for error messages.
  std::string log_tail(size_t max_bytes = 2000) const;

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  std::optional<int> status_;
  ChildSpec spec_;
};

// A port that was free on 127.0.0.1 a moment ago (bind to port 0, read it, close). Racy by
// nature: callers that start a server on it retry on "address in use".
int pick_free_port();

}  // namespace faultline
