// A small in-process HTTP/1.1 server (civetweb, keep-alive) on a free 127.0.0.1 port for the
// load engine tests. Endpoints (query `ms=N` where noted):
//   /fast        200 "ok"
//   /slow?ms=N   200 after N ms (cut short when the server stops)
//   /stall       200 "ok", but a request that arrives inside the stall window is held until the
//                window ends: a server that stops answering for a while
//   /echo        200, body "METHOD <body bytes> <X-Request-Id>"
// Every request is recorded (method, body size, X-Request-Id), and the peak number of requests
// being handled at once is tracked. civetweb holds one thread per keep-alive connection: a
// client must open fewer connections than `threads`, or its extra requests wait unanswered.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

struct mg_context;
struct mg_connection;

namespace faultline::test {

struct ReceivedRequest {
  std::string method;
  std::string path;
  size_t body_bytes = 0;
  std::string request_id;
};

class TestHttpServer {
 public:
  using Clock = std::chrono::steady_clock;

  // `keep_alive_ms`: how long an idle keep-alive connection stays open before the server
  // closes it.
  explicit TestHttpServer(int threads = 64, int keep_alive_ms = 30000);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path_and_query) const;

  // Requests arriving in [from, until) are held until `until`.
  void set_stall(Clock::time_point from, Clock::time_point until);

  std::vector<ReceivedRequest> received() const;
  int peak_concurrency() const;

 private:
  static int handle(mg_connection* conn, void* self);
  int respond(mg_connection* conn);
  // Waits until `until` or until the server stops.
  void hold_until(Clock::time_point until);

  mg_context* ctx_ = nullptr;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable stopping_cv_;
  bool stopping_ = false;
  Clock::time_point stall_from_{}, stall_until_{};
  std::vector<ReceivedRequest> received_;
  int active_ = 0, peak_ = 0;
};

}  // namespace faultline::test
