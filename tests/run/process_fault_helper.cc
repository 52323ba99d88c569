// A helper process for tests/run/process_fault_test.cc (not a test):
//   process_fault_helper http <port>
//       a tiny HTTP server on 127.0.0.1:<port> that answers every request "200 ok", one at a
//       time: a service a process fault can kill, pause and start again.
//   process_fault_helper own-paused <log-dir> <self>
//       owns a ServiceLauncher running `<self> http {port}` as service "api", pauses it through
//       a ProcessDriver, prints "paused <pid>" and waits for a signal: the faultline a test
//       kills with SIGKILL while its service is paused.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "faults/process_driver.h"
#include "loopback_listen.h"
#include "run/service_launcher.h"

namespace {

int serve_http(int port) {
  const int fd = faultline::testing::listen_loopback(port, 64);
  if (fd < 0) return 1;
  std::printf("listening on %d\n", port);
  std::fflush(stdout);
  const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  while (true) {
    const int conn = ::accept(fd, nullptr, nullptr);
    if (conn < 0) continue;
    std::string request;
    char buf[1024];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
      const ssize_t n = ::read(conn, buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    (void)!::write(conn, answer.data(), answer.size());
    ::close(conn);
  }
}

int own_paused(const std::string& log_dir, const std::string& self) {
  using namespace faultline;
  Environment env;
  env.name = "helper";
  ServiceSpec api;
  api.name = "api";
  api.command = {self, "http", "{port}"};
  api.ready_path = "/";
  api.ready_timeout = std::chrono::seconds(10);
  env.services.push_back(api);
  ServiceLauncher launcher(env, log_dir);
  launcher.start({});
  ProcessDriver driver(launcher);
  FaultStep pause;
  pause.kind = "process";
  pause.target = "api";
  pause.state_json = R"({"action":"pause"})";
  driver.apply(pause, Duration{0});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!driver.settled() && std::chrono::steady_clock::now() < deadline) {
    driver.tick(Duration{0});
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!driver.settled()) {
    std::printf("not paused\n");
    return 1;
  }
  std::printf("paused %d\n", static_cast<int>(launcher.get("api").process->pid()));
  std::fflush(stdout);
  while (true) ::pause();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "http" && argc == 3) return serve_http(std::atoi(argv[2]));
  if (mode == "own-paused" && argc == 4) return own_paused(argv[2], argv[3]);
  std::fprintf(stderr,
               "usage: process_fault_helper http <port>\n"
               "       process_fault_helper own-paused <log-dir> <self>\n");
  return 2;
}
