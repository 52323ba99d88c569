#include "test_http_server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "proc/child_process.h"

namespace faultline::test {

TestHttpServer::TestHttpServer(int threads, int keep_alive_ms) {
  static std::once_flag init;
  std::call_once(init, [] { mg_init_library(0); });
  const std::string thread_count = std::to_string(threads);
  const std::string keep_alive = std::to_string(keep_alive_ms);
  // pick_free_port is racy by nature: retry on a port taken in between.
  for (int attempt = 0; attempt < 10 && ctx_ == nullptr; ++attempt) {
    port_ = pick_free_port();
    const std::string listen = "127.0.0.1:" + std::to_string(port_);
    // tcp_nodelay: civetweb writes headers and body separately; with Nagle, the body would
    // wait for the client's delayed ACK (40 ms).
    // clang-format off
    const char* options[] = {"listening_ports", listen.c_str(),
                             "num_threads", thread_count.c_str(),
                             "enable_keep_alive", "yes",
                             "keep_alive_timeout_ms", keep_alive.c_str(),
                             "request_timeout_ms", "30000",
                             "tcp_nodelay", "1",
                             nullptr};
    // clang-format on
    mg_callbacks callbacks{};
    ctx_ = mg_start(&callbacks, this, options);
  }
  if (ctx_ == nullptr) throw std::runtime_error("test server: cannot listen on 127.0.0.1");
  mg_set_request_handler(ctx_, "/", &TestHttpServer::handle, this);
}

TestHttpServer::~TestHttpServer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stopping_cv_.notify_all();
  // civetweb's listener polls in 2 s quanta and mg_stop waits for it; a connection attempt
  // wakes it at once.
  std::atomic<bool> stopped{false};
  std::thread poke([&] {
    while (!stopped.load()) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(port_));
      (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      ::close(fd);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  mg_stop(ctx_);
  stopped.store(true);
  poke.join();
}

std::string TestHttpServer::url(const std::string& path_and_query) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path_and_query;
}

void TestHttpServer::set_stall(Clock::time_point from, Clock::time_point until) {
  std::lock_guard<std::mutex> lock(mutex_);
  stall_from_ = from;
  stall_until_ = until;
}

std::vector<ReceivedRequest> TestHttpServer::received() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return received_;
}

int TestHttpServer::peak_concurrency() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peak_;
}

void TestHttpServer::hold_until(Clock::time_point until) {
  std::unique_lock<std::mutex> lock(mutex_);
  stopping_cv_.wait_until(lock, until, [&] { return stopping_; });
}

int TestHttpServer::handle(mg_connection* conn, void* self) {
  return static_cast<TestHttpServer*>(self)->respond(conn);
}

int TestHttpServer::respond(mg_connection* conn) {
  const Clock::time_point arrived = Clock::now();
  const mg_request_info* info = mg_get_request_info(conn);
  const std::string path = info->local_uri ? info->local_uri : "";
  const std::string query = info->query_string ? info->query_string : "";
  ReceivedRequest r;
  r.method = info->request_method;
  r.path = path;
  char buf[4096];
  int n;
  while ((n = mg_read(conn, buf, sizeof buf)) > 0) r.body_bytes += static_cast<size_t>(n);
  if (const char* id = mg_get_header(conn, "X-Request-Id")) r.request_id = id;
  Clock::time_point stall_until{};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    received_.push_back(r);
    peak_ = std::max(peak_, ++active_);
    if (arrived >= stall_from_ && arrived < stall_until_) stall_until = stall_until_;
  }

  std::string body = "ok";
  if (path == "/slow") {
    const long ms = query.rfind("ms=", 0) == 0 ? std::strtol(query.c_str() + 3, nullptr, 10) : 0;
    hold_until(arrived + std::chrono::milliseconds(ms));
  } else if (path == "/stall") {
    if (stall_until != Clock::time_point{}) hold_until(stall_until);
  } else if (path == "/echo") {
    body = r.method + " " + std::to_string(r.body_bytes) + " " + r.request_id;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --active_;
  }
  mg_send_http_ok(conn, "text/plain", static_cast<long long>(body.size()));
  if (r.method != "HEAD") mg_write(conn, body.data(), body.size());
  return 200;
}

}  // namespace faultline::test
