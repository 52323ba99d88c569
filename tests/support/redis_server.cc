#include "redis_server.h"

#include <atomic>
#include <thread>

#include "common/error.h"

namespace faultline::testing {

namespace {

constexpr int kAttempts = 5;

}  // namespace

bool redis_answers(int port) {
  try {
    demo::RedisConnection conn({"127.0.0.1", port}, std::chrono::milliseconds(200),
                               std::chrono::milliseconds(500));
    return conn.command({"PING"}).str == "PONG";
  } catch (const demo::RedisError&) {
    return false;
  }
}

RedisServer RedisServer::start(const std::string& log_dir, int port,
                               std::chrono::milliseconds timeout) {
  std::string last_error;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const int p = port != 0 ? port : pick_free_port();
    ChildSpec spec;
    spec.argv = {"redis-server", "--port", std::to_string(p), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no",     "--daemonize",     "no",     "--dir",     log_dir};
    // A fresh log per start: waiting for the ready line must not find a previous server's.
    static std::atomic<int> starts{0};
    spec.stdout_path =
        log_dir + "/redis-" + std::to_string(p) + "-" + std::to_string(++starts) + ".log";
    ChildProcess child = ChildProcess::spawn(spec);
    auto line = child.wait_for_line(
        [](const std::string& l) {
          return l.find("Ready to accept connections") != std::string::npos;
        },
        timeout);
    if (line && redis_answers(p)) {
      RedisServer server;
      server.child_.emplace(std::move(child));
      server.port_ = p;
      return server;
    }
    last_error = child.log_tail(600);
    child.stop(std::chrono::milliseconds(1000));
    if (last_error.find("Address already in use") == std::string::npos) break;
    // A clash: another process took the port. A free port is re-picked; a fixed one may be
    // freed in a moment (the previous server on it is still closing).
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw EnvironmentError("redis-server did not start on 127.0.0.1" +
                         (port ? ":" + std::to_string(port) : std::string()) + ": " + last_error);
}

void RedisServer::stop() {
  if (child_) child_->stop(std::chrono::milliseconds(3000));
}

demo::RedisReply RedisServer::command(const std::vector<std::string>& argv) const {
  demo::RedisConnection conn({"127.0.0.1", port_}, std::chrono::milliseconds(500),
                             std::chrono::seconds(2));
  return conn.command(argv);
}

long long RedisServer::integer(const std::vector<std::string>& argv) const {
  const demo::RedisReply r = command(argv);
  if (r.type == demo::RedisReply::Type::kInteger) return r.integer;
  if (r.type == demo::RedisReply::Type::kString && !r.str.empty()) return std::stoll(r.str);
  return 0;
}

}  // namespace faultline::testing
