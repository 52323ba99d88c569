#include "proc/child_process.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace faultline {

namespace {

std::string read_file_from(const std::string& path, size_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const auto size = static_cast<size_t>(in.tellg());
  if (offset >= size) return {};
  in.seekg(static_cast<std::streamoff>(offset));
  std::string out(size - offset, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

// Sleeps 5 ms: the polling step of every bounded wait here (leaders and groups have no fd to
// wait on; pidfd covers only one process).
void poll_pause() {
  const timespec step{0, 5'000'000};
  ::nanosleep(&step, nullptr);
}

long monotonic_ms() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<long>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

// Closes every descriptor but `keep`. Async-signal-safe; `max_fd` is computed before fork for
// the fallback on kernels without close_range (< 5.9).
void close_all_but(int keep, int max_fd) {
  bool ok = keep == 0 || ::close_range(0, static_cast<unsigned>(keep) - 1, 0) == 0;
  ok = ok && ::close_range(static_cast<unsigned>(keep) + 1, ~0U, 0) == 0;
  if (ok) return;
  for (int fd = 0; fd < max_fd; ++fd)
    if (fd != keep) ::close(fd);
}

// The body of the watchdog process (see the header). It runs right after fork() in a process
// that may have had other threads, so it uses only async-signal-safe calls and never returns.
[[noreturn]] void run_watchdog(int watch_fd, pid_t pgid, long grace_ms, int max_fd) {
  ::setpgid(0, 0);  // out of the owner's group: `kill -9 -<owner's group>` must not take it too
  ::prctl(PR_SET_NAME, "faultline-wd", 0, 0, 0);
  struct sigaction action {};
  sigemptyset(&action.sa_mask);
  action.sa_handler = SIG_DFL;  // the owner's handlers mean nothing here
  for (int sig = 1; sig < NSIG; ++sig)
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &action, nullptr);
  // Signals aimed at the owner's terminal or group must not end the watchdog before it acts.
  action.sa_handler = SIG_IGN;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU})
    ::sigaction(sig, &action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  close_all_but(watch_fd, max_fd);

  char byte;
  while (true) {
    const ssize_t n = ::read(watch_fd, &byte, 1);
    if (n == 0 || (n < 0 && errno != EINTR)) break;  // EOF: the owner is gone
  }
  ::kill(-pgid, SIGCONT);
  ::kill(-pgid, SIGTERM);
  const long deadline_ms = monotonic_ms() + grace_ms;
  while (::kill(-pgid, 0) == 0 && monotonic_ms() < deadline_ms) poll_pause();
  ::kill(-pgid, SIGKILL);
  ::_exit(0);
}

void close_pipe(int fds[2]) {
  ::close(fds[0]);
  ::close(fds[1]);
}

}  // namespace

ChildProcess ChildProcess::spawn(const ChildSpec& spec) {
  if (spec.argv.empty()) throw EnvironmentError("cannot start a process with an empty command");
  if (spec.stdout_path.empty()) throw EnvironmentError("child process needs a stdout log path");

  // Orphans of our groups are reparented to us, so stop() can reap them (see the header).
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

  const int out_fd =
      ::open(spec.stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out_fd < 0)
    throw EnvironmentError("cannot open log " + spec.stdout_path + ": " + std::strerror(errno));
  int err_fd = out_fd;
  if (!spec.stderr_path.empty() && spec.stderr_path != spec.stdout_path) {
    err_fd = ::open(spec.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (err_fd < 0) {
      ::close(out_fd);
      throw EnvironmentError("cannot open log " + spec.stderr_path + ": " + std::strerror(errno));
    }
  }
  auto close_logs = [&] {
    ::close(out_fd);
    if (err_fd != out_fd) ::close(err_fd);
  };

  // exec failures travel back over a close-on-exec pipe: EOF means exec succeeded.
  int status_pipe[2];
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
    const int e = errno;
    close_logs();
    throw EnvironmentError(std::string("pipe: ") + std::strerror(e));
  }
  // The child waits for one byte here before exec: the watchdog exists by then. EOF instead
  // means the owner died (or gave up) first, and the child exits without running anything.
  int go_pipe[2];
  if (::pipe2(go_pipe, O_CLOEXEC) != 0) {
    const int e = errno;
    close_pipe(status_pipe);
    close_logs();
    throw EnvironmentError(std::string("pipe: ") + std::strerror(e));
  }

  // Build argv/envp before fork: no allocation in the child.
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string_view entry(*e);
    bool overridden = false;
    for (const auto& [k, v] : spec.env)
      if (entry.substr(0, entry.find('=')) == k) overridden = true;
    if (!overridden) env_strings.emplace_back(entry);
  }
  for (const auto& [k, v] : spec.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();
  const long open_max = ::sysconf(_SC_OPEN_MAX);
  const int max_fd = open_max > 0 && open_max < (1 << 20) ? static_cast<int>(open_max) : 1 << 20;

  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    close_pipe(status_pipe);
    close_pipe(go_pipe);
    close_logs();
    throw EnvironmentError(std::string("fork: ") + std::strerror(e));
  }
  if (pid == 0) {
    ::close(go_pipe[1]);  // else our own copy would keep the pipe open and hide the owner's death
    if (spec.die_with_parent) {
      // Until exec we still carry the owner's handlers; SIGTERM must end us, not set its flag.
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(SIGTERM, &dfl, nullptr);
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);
    }
    // Own group: a Ctrl-C at the terminal reaches faultline, which decides; and stop() can
    // signal everything this child starts.
    ::setpgid(0, 0);
    char go = 0;
    ssize_t n;
    do {
      n = ::read(go_pipe[0], &go, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) ::_exit(127);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) {
      int e = errno;
      (void)!::write(status_pipe[1], &e, sizeof e);
      ::_exit(127);
    }
    ::execvpe(argv[0], argv.data(), envp.data());
    int e = errno;
    (void)!::write(status_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  // Both sides set the group, so it exists before the parent can signal it, whichever runs
  // first (the child cannot have exec'd yet: it waits for the go byte).
  ::setpgid(pid, pid);
  ::close(status_pipe[1]);
  ::close(go_pipe[0]);
  close_logs();

  ChildProcess child;
  child.pid_ = pid;
  child.spec_ = spec;
  if (spec.die_with_parent) {
    int watch_pipe[2];
    pid_t watchdog = -1;
    int fork_errno = 0;
    if (::pipe2(watch_pipe, O_CLOEXEC) != 0) {
      fork_errno = errno;
    } else {
      watchdog = ::fork();
      if (watchdog == 0) {
        run_watchdog(watch_pipe[0], pid, static_cast<long>(spec.watchdog_grace.count()), max_fd);
      }
      if (watchdog < 0) {
        fork_errno = errno;
        close_pipe(watch_pipe);
      } else {
        ::close(watch_pipe[0]);
        child.watchdog_pid_ = watchdog;
        child.watchdog_fd_ = watch_pipe[1];
      }
    }
    if (fork_errno != 0) {
      ::close(go_pipe[1]);  // the child reads EOF and exits without exec
      ::close(status_pipe[0]);
      child.stop(std::chrono::milliseconds(0));
      throw EnvironmentError(std::string("cannot start the watchdog of '") + spec.argv[0] +
                             "': " + std::strerror(fork_errno));
    }
  }
  const char go = 'g';
  (void)!::write(go_pipe[1], &go, 1);
  ::close(go_pipe[1]);

  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(status_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(status_pipe[0]);
  if (n == sizeof child_errno) {
    child.stop(std::chrono::milliseconds(0));  // reaps the child and dismisses the watchdog
    throw EnvironmentError("cannot start '" + spec.argv[0] + "': " + std::strerror(child_errno));
  }
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_),
      status_(other.status_),
      stopped_(other.stopped_),
      group_gone_(other.group_gone_),
      watchdog_pid_(other.watchdog_pid_),
      watchdog_fd_(other.watchdog_fd_),
      spec_(std::move(other.spec_)) {
  other.pid_ = -1;
  other.watchdog_pid_ = -1;
  other.watchdog_fd_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !stopped_) stop();
    pid_ = other.pid_;
    status_ = other.status_;
    stopped_ = other.stopped_;
    group_gone_ = other.group_gone_;
    watchdog_pid_ = other.watchdog_pid_;
    watchdog_fd_ = other.watchdog_fd_;
    spec_ = std::move(other.spec_);
    other.pid_ = -1;
    other.watchdog_pid_ = -1;
    other.watchdog_fd_ = -1;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !stopped_) stop();
}

bool ChildProcess::running() {
  if (pid_ <= 0 || status_) return false;
  int st = 0;
  const pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = st;
    return false;
  }
  return true;
}

bool ChildProcess::send_signal(int sig) {
  if (pid_ <= 0 || stopped_) {
    errno = ESRCH;
    return false;
  }
  return ::kill(-pid_, sig) == 0;
}

std::optional<int> ChildProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    poll_pause();
  }
  return status_;
}

bool ChildProcess::reap_group() {
  running();  // the child first, so its status is ours and not consumed below
  int st = 0;
  pid_t r;
  while ((r = ::waitpid(-pid_, &st, WNOHANG)) > 0)
    if (r == pid_) status_ = st;
  return ::kill(-pid_, 0) != 0 && errno == ESRCH;
}

bool ChildProcess::wait_group_gone(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reap_group()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    poll_pause();
  }
  return true;
}

void ChildProcess::dismiss_watchdog() {
  if (watchdog_pid_ > 0) {
    ::kill(watchdog_pid_, SIGKILL);
    int st = 0;
    while (::waitpid(watchdog_pid_, &st, 0) < 0 && errno == EINTR) {
    }
    watchdog_pid_ = -1;
  }
  if (watchdog_fd_ >= 0) ::close(watchdog_fd_);
  watchdog_fd_ = -1;
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  if (!stopped_) {
    // Stopped (SIGSTOP) members must be continued to act on SIGTERM.
    ::kill(-pid_, SIGCONT);
    ::kill(-pid_, SIGTERM);
    group_gone_ = wait_group_gone(grace);
    if (!group_gone_) {
      ::kill(-pid_, SIGKILL);
      group_gone_ = wait_group_gone(kGoneTimeout);
    }
    // Only if the child itself outlived SIGKILL by kGoneTimeout (uninterruptible sleep): wait
    // for it as before, so it is never left a zombie.
    if (!status_) {
      int st = 0;
      while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
      }
      status_ = st;
    }
    stopped_ = true;
    // Only now: had the owner died during the wait, the watchdog would have finished the job.
    dismiss_watchdog();
  }
  return status_.value_or(-1);
}

std::optional<std::string> ChildProcess::wait_for_line(
    const std::function<bool(const std::string&)>& match, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t offset = 0;
  std::string partial;
  while (true) {
    // Read whatever is new before checking liveness, so a line printed just before exit counts.
    const bool alive = running();
    std::string chunk = read_file_from(spec_.stdout_path, offset);
    offset += chunk.size();
    partial += chunk;
    size_t nl;
    while ((nl = partial.find('\n')) != std::string::npos) {
      std::string line = partial.substr(0, nl);
      partial.erase(0, nl + 1);
      if (match(line)) return line;
    }
    if (!alive) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    poll_pause();
  }
}

std::string ChildProcess::log_tail(size_t max_bytes) const {
  const std::string& path = spec_.stderr_path.empty() ? spec_.stdout_path : spec_.stderr_path;
  std::string all = read_file_from(path, 0);
  if (all.size() > max_bytes) all = all.substr(all.size() - max_bytes);
  return all;
}

GroupMembers count_group_members(pid_t pgid) {
  GroupMembers out;
  DIR* proc = ::opendir("/proc");
  if (!proc) return out;
  while (const dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parens, so
    // the fields are read after the last ')'.
    // Read as a stream: /proc files have no size to seek to.
    std::ifstream in(std::string("/proc/") + entry->d_name + "/stat");
    std::string stat;
    std::getline(in, stat);
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 1));
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (!(fields >> state >> ppid >> pgrp) || pgrp != pgid) continue;
    if (state == 'Z' || state == 'X' || state == 'x') continue;
    ++out.live;
    if (state == 'T' || state == 't') ++out.stopped;
  }
  ::closedir(proc);
  return out;
}

int pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw EnvironmentError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    ::close(fd);
    throw EnvironmentError(std::string("bind 127.0.0.1:0: ") + std::strerror(e));
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace faultline
