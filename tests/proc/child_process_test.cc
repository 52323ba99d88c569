// A ChildProcess owns a process group: after stop(), or after its owner is killed with SIGKILL,
// no process of the group is left and the server a shell started no longer listens. Each test
// lists the group's members from /proc while the tree runs, then checks every one of them by PID.
// Waits poll with a deadline; every test ends with no child of ours left (nothing leaks).
#include "proc/child_process.h"
#include "temp_dir.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kHelper = PROC_TEST_HELPER;

// Polls `done` every 10 ms until it holds or `limit` passes; returns its last value.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

bool port_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Every process whose group is `pgid`, zombies included, from /proc/<pid>/stat (field 5).
std::vector<pid_t> group_members(pid_t pgid) {
  std::vector<pid_t> members;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    if (!std::getline(in, stat)) continue;  // exited meanwhile
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    long ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp == pgid) members.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return members;
}

// True when `pid` no longer exists. Reaps it first if it is (by now) our child: orphans of a
// group come to us, since ChildProcess::spawn makes this process a child subreaper.
bool gone(pid_t pid) {
  ::waitpid(pid, nullptr, WNOHANG);
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

bool all_gone(const std::vector<pid_t>& pids) {
  bool all = true;
  for (pid_t p : pids) all = gone(p) && all;
  return all;
}

// No child of this process is left, alive or zombie.
bool no_children_left() {
  return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

ChildSpec shell(const std::string& line, const std::string& dir) {
  ChildSpec spec;
  spec.argv = {"sh", "-c", line};
  spec.stdout_path = dir + "/tree.log";
  return spec;
}

// Starts `line` and waits until the helper server it starts on `port` accepts connections and
// the group holds at least `min_members` processes (the shell forks before the server binds).
std::vector<pid_t> wait_for_tree(ChildProcess& tree, int port, size_t min_members) {
  REQUIRE(eventually([&] { return port_accepts(port); }, 10s));
  std::vector<pid_t> members;
  REQUIRE(eventually(
      [&] {
        members = group_members(tree.pid());
        return members.size() >= min_members;
      },
      10s));
  return members;
}

TEST_CASE("stop ends every process of a shell-started group, the server behind the shell too") {
  const faultline::testing::TempDir tmp_dir("proc-stop");
  const std::string dir = tmp_dir.path();
  const int port = pick_free_port();
  // sh stays the parent (the server is not its last command), a background sleep beside it.
  ChildProcess tree = ChildProcess::spawn(
      shell("sleep 300 & " + kHelper + " listen " + std::to_string(port) + "; echo done", dir));
  const std::vector<pid_t> members = wait_for_tree(tree, port, 3);
  const pid_t watchdog = tree.watchdog_pid();
  CHECK(watchdog > 0);
  CHECK(::kill(watchdog, 0) == 0);  // the watchdog waits while its owner lives

  const auto started = Clock::now();
  const int status = tree.stop(3000ms);
  INFO("stop took "
       << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count()
       << " ms");
  CHECK(Clock::now() - started < 3000ms);  // SIGTERM was enough: no wait for the grace period
  CHECK(tree.group_gone());
  CHECK(::kill(-tree.pid(), 0) == -1);
  CHECK(all_gone(members));
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGTERM);
  CHECK_FALSE(port_accepts(port));
  CHECK(tree.watchdog_pid() == -1);
  CHECK((watchdog <= 0 || gone(watchdog)));
  CHECK(tree.stop() == status);  // idempotent
  CHECK(no_children_left());
}

TEST_CASE("members that ignore SIGTERM are killed with SIGKILL after the grace period") {
  const faultline::testing::TempDir tmp_dir("proc-grace");
  const std::string dir = tmp_dir.path();
  const int port = pick_free_port();
  // An ignored signal stays ignored across fork and exec: nothing in this group obeys SIGTERM.
  ChildProcess tree = ChildProcess::spawn(
      shell("trap '' TERM; sleep 300 & exec " + kHelper + " listen " + std::to_string(port), dir));
  const std::vector<pid_t> members = wait_for_tree(tree, port, 2);

  const auto started = Clock::now();
  const int status = tree.stop(300ms);
  const auto took = Clock::now() - started;
  CHECK(took >= 300ms);
  CHECK(took < 300ms + ChildProcess::kGoneTimeout);
  CHECK(tree.group_gone());
  CHECK(all_gone(members));
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  CHECK_FALSE(port_accepts(port));
  CHECK(no_children_left());
}

TEST_CASE("a group whose first process already exited is still stopped, by stop or destructor") {
  const faultline::testing::TempDir tmp_dir("proc-leader-exited");
  const std::string dir = tmp_dir.path();
  const int port = pick_free_port();
  std::vector<pid_t> members;
  {
    // sh starts the server in the background and exits 0: the server is left on its own.
    ChildProcess tree =
        ChildProcess::spawn(shell(kHelper + " listen " + std::to_string(port) + " & exit 0", dir));
    const auto status = tree.wait_for_exit(10s);
    REQUIRE(status);
    CHECK(WIFEXITED(*status));
    REQUIRE(eventually([&] { return port_accepts(port); }, 10s));
    members = group_members(tree.pid());
    CHECK(members.size() == 1);  // the server, now our child: the shell was reaped
    // The destructor stops what stop() would: it was never called.
  }
  CHECK(all_gone(members));
  CHECK_FALSE(port_accepts(port));
  CHECK(no_children_left());
}

// The test plays the init of a machine: the owner (proc_test_helper own) spawns `tree_line`
// (`sh -c`, the port as $0), the test kills the owner with SIGKILL, and the tree must end
// without anyone stopping it.
void owner_killed(const std::string& tree_line, std::chrono::milliseconds watchdog_grace,
                  const std::string& name) {
  const faultline::testing::TempDir tmp_dir("proc-" + std::string(name));
  const std::string dir = tmp_dir.path();
  const int port = pick_free_port();
  ChildSpec owner_spec;
  owner_spec.argv = {kHelper, "own", dir + "/tree.log", std::to_string(watchdog_grace.count()),
                     "sh",    "-c",  tree_line,         std::to_string(port)};  // $0 of the line
  owner_spec.stdout_path = dir + "/owner.log";
  ChildProcess owner = ChildProcess::spawn(owner_spec);
  const auto line =
      owner.wait_for_line([](const std::string& l) { return l.rfind("tree ", 0) == 0; }, 10s);
  REQUIRE(line);
  std::istringstream fields(line->substr(5));
  pid_t leader = 0, watchdog = 0;
  fields >> leader >> watchdog;
  REQUIRE(leader > 0);
  CHECK(watchdog > 0);
  auto watchdog_gone = [&] { return watchdog <= 0 || gone(watchdog); };
  std::vector<pid_t> members;
  REQUIRE(eventually([&] { return port_accepts(port); }, 10s));
  REQUIRE(eventually(
      [&] {
        members = group_members(leader);
        return members.size() >= 2;
      },
      10s));

  owner.send_signal(SIGKILL);
  const auto owner_status = owner.wait_for_exit(10s);
  REQUIRE(owner_status);
  CHECK(WTERMSIG(*owner_status) == SIGKILL);
  const auto killed = Clock::now();
  // The watchdog's grace plus a generous margin for a loaded machine.
  const bool tree_gone =
      eventually([&] { return all_gone(members) && ::kill(-leader, 0) == -1 && watchdog_gone(); },
                 watchdog_grace + 10s);
  INFO("tree gone after "
       << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed).count()
       << " ms");
  CHECK(tree_gone);
  CHECK_FALSE(port_accepts(port));
  if (!tree_gone) {  // do not leak the tree into later tests
    ::kill(-leader, SIGKILL);
    eventually([&] { return all_gone(members) && watchdog_gone(); }, 5s);
  }
  owner.stop();
  CHECK(no_children_left());
}

TEST_CASE("an owner killed with SIGKILL leaves no process of its tree behind") {
  // sh becomes the sleep (PR_SET_PDEATHSIG ends it); the server beside it only the watchdog.
  owner_killed(kHelper + " listen $0 & exec sleep 300", 3000ms, "owner-killed");
}

TEST_CASE("an owner killed with SIGKILL: a tree that ignores SIGTERM is killed after the grace") {
  owner_killed("trap '' TERM; " + kHelper + " listen $0 & exec sleep 300", 300ms,
               "owner-killed-term");
}

TEST_CASE("a command that cannot start throws and leaves no process behind") {
  const faultline::testing::TempDir tmp_dir("proc-no-such");
  const std::string dir = tmp_dir.path();
  ChildSpec spec;
  spec.argv = {"/nonexistent/faultline-no-such-program"};
  spec.stdout_path = dir + "/out.log";
  CHECK_THROWS_AS(ChildProcess::spawn(spec), EnvironmentError);
  CHECK(no_children_left());  // neither the child nor its watchdog
}

}  // namespace
}  // namespace faultline
