// A blocking Redis connection over hiredis that reconnects on demand, and a small pool of them
// for handler threads. Commands are argv vectors (binary-safe), replies are plain values.
//
// Thread-safety: a RedisConnection is used by one thread at a time. RedisPool is thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/units.h"

struct redisContext;

namespace faultline::demo {

struct RedisAddress {
  std::string host;
  int port = 0;
  std::string to_string() const { return host + ":" + std::to_string(port); }
};

// "HOST:PORT" ("127.0.0.1:6379", "localhost:6380"); nullopt when malformed.
std::optional<RedisAddress> parse_redis_address(std::string_view text);

struct RedisReply {
  enum class Type { kNil, kString, kInteger, kArray, kStatus, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  long long integer = 0;
  std::vector<RedisReply> elements;
  bool is_nil() const { return type == Type::kNil; }
};

class RedisError : public std::runtime_error {
 public:
  RedisError(const std::string& message, bool timeout)
      : std::runtime_error(message), timeout_(timeout) {}
  bool timeout() const { return timeout_; }

 private:
  bool timeout_;
};

class RedisConnection {
 public:
  RedisConnection(RedisAddress address, Duration connect_timeout, Duration command_timeout);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Runs one command, connecting first if needed. Throws RedisError on a transport failure (the
  // connection is dropped; the next call reconnects) and on an error reply.
  RedisReply command(const std::vector<std::string>& argv);

  void close();
  const RedisAddress& address() const { return address_; }

 private:
  void connect();

  RedisAddress address_;
  Duration connect_timeout_;
  Duration command_timeout_;
  redisContext* ctx_ = nullptr;
};

// Readiness probe: "" when PING succeeds on `conn`, else why not.
std::string redis_ping(RedisConnection& conn);

class RedisPool {
 public:
  RedisPool(RedisAddress address, Duration connect_timeout, Duration command_timeout);

  // Runs `fn` with an idle connection (opening one when none is idle), then returns the
  // connection to the pool, also when `fn` throws.
  void run(const std::function<void(RedisConnection&)>& fn);

 private:
  std::unique_ptr<RedisConnection> acquire();
  void release(std::unique_ptr<RedisConnection> conn);

  RedisAddress address_;
  Duration connect_timeout_;
  Duration command_timeout_;
  std::mutex mu_;
  std::vector<std::unique_ptr<RedisConnection>> idle_;
};

}  // namespace faultline::demo
