// A redis-server that a test started and owns: loopback only, no persistence, on a free port
// (or a given one, e.g. to bring Redis back where a service expects it). Stopped by PID.
//
// Thread-safety: one owner thread; command() opens its own connection per call.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "proc/child_process.h"
#include "queue/redis_connection.h"

namespace faultline::testing {

class RedisServer {
 public:
  // Starts redis-server (`--port P --bind 127.0.0.1 --save '' --appendonly no`) and waits until
  // it answers PING. port 0: a free port, retried with another on a clash; a fixed port is
  // retried a few times. Logs go to <log_dir>/redis-<port>.log. Throws EnvironmentError.
  static RedisServer start(const std::string& log_dir, int port = 0,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10));

  RedisServer(RedisServer&&) = default;
  RedisServer& operator=(RedisServer&&) = default;
  ~RedisServer() = default;  // the ChildProcess stops the server

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  bool running() { return child_ && child_->running(); }

  // SIGTERM, then SIGKILL after a grace period. Idempotent.
  void stop();

  // Runs one command on a fresh connection (for tests inspecting keys).
  // Throws faultline::demo::RedisError.
  demo::RedisReply command(const std::vector<std::string>& argv) const;
  // Integer reply of a command, or of GET's string ("" and nil count as 0).
  long long integer(const std::vector<std::string>& argv) const;

 private:
  RedisServer() = default;
  std::optional<ChildProcess> child_;
  int port_ = 0;
};

// True when something on 127.0.0.1:port answers a Redis PING with PONG.
bool redis_answers(int port);

}  // namespace faultline::testing
