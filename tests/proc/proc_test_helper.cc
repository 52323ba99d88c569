// A helper process for tests/proc (not a test):
//   proc_test_helper listen <port>
//       binds 127.0.0.1:<port>, prints "listening", then waits for a signal: the server a
//       shell line starts, which must not outlive its group.
//   proc_test_helper own <stdout-path> <watchdog-grace-ms> <argv...>
//       spawns <argv...> as a ChildProcess, prints "tree <pid> <watchdog pid>", then waits for
//       a signal: the owner a test kills with SIGKILL.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "loopback_listen.h"
#include "proc/child_process.h"

namespace {

[[noreturn]] void wait_for_signal() {
  while (true) ::pause();
}

int listen_on(int port) {
  const int fd = faultline::testing::listen_loopback(port, 16);
  if (fd < 0) return 1;
  std::printf("listening\n");
  std::fflush(stdout);
  wait_for_signal();
}

int own(int argc, char** argv) {
  faultline::ChildSpec spec;
  spec.stdout_path = argv[2];
  spec.watchdog_grace = std::chrono::milliseconds(std::atol(argv[3]));
  for (int i = 4; i < argc; ++i) spec.argv.emplace_back(argv[i]);
  faultline::ChildProcess tree = faultline::ChildProcess::spawn(spec);
  std::printf("tree %d %d\n", static_cast<int>(tree.pid()), static_cast<int>(tree.watchdog_pid()));
  std::fflush(stdout);
  wait_for_signal();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "listen" && argc == 3) return listen_on(std::atoi(argv[2]));
  if (mode == "own" && argc >= 5) return own(argc, argv);
  std::fprintf(stderr,
               "usage: proc_test_helper listen <port>\n"
               "       proc_test_helper own <stdout-path> <watchdog-grace-ms> <argv...>\n");
  return 2;
}
