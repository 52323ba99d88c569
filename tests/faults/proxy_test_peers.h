// The two ends around a TcpProxy in tests, on real loopback sockets: an echo server standing
// for the proxied service (it records when each byte arrived), and client calls that wait on
// deadlines with poll() rather than sleeping.
//
// Thread-safety: EchoServer runs one thread; its accessors may be called from the test thread.
// The client functions are plain calls on a socket owned by the caller.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace faultline::testing {

using SteadyTime = std::chrono::steady_clock::time_point;

// An owned socket descriptor.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() { reset(); }
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept;
  int fd() const { return fd_; }
  void reset();

 private:
  int fd_ = -1;
};

struct EchoOptions {
  // After echoing this many bytes on a connection, the server closes it (0: never).
  size_t close_after_bytes = 0;
};

// Accepts connections on 127.0.0.1 (a free port) and writes back every byte it receives.
class EchoServer {
 public:
  struct Arrival {
    SteadyTime at;
    size_t bytes;
    int connection;  // 0-based in accept order
  };

  explicit EchoServer(EchoOptions options = {});
  ~EchoServer();  // stops the thread, closes every socket
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  int port() const { return port_; }
  std::vector<Arrival> arrivals() const;
  size_t bytes_received() const;
  int connections() const;
  // Waits until `bytes` bytes have arrived in total; false at the deadline.
  bool wait_bytes(size_t bytes, std::chrono::milliseconds timeout) const;

 private:
  void run();

  EchoOptions options_;
  int port_ = 0;
  Socket listener_;
  int stop_pipe_[2] = {-1, -1};
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<Arrival> arrivals_;
  size_t bytes_ = 0;
  int connections_ = 0;
  std::thread thread_;
};

// A blocking connection to 127.0.0.1:port; an invalid Socket and `*error` = errno on failure.
Socket connect_loopback(int port, int* error = nullptr);
void send_all(const Socket& s, const std::string& data);

struct Received {
  std::string bytes;
  std::vector<size_t> reads;  // the size of each recv() that returned data
  SteadyTime last_at{};       // when the last byte arrived
  bool eof = false;
  int error = 0;  // errno of a failed recv (ECONNRESET)
};
// Reads until `n` bytes, EOF, an error or the deadline, whichever comes first.
Received receive(const Socket& s, size_t n, std::chrono::milliseconds timeout);

enum class Ending { kEof, kReset, kStillOpen };
// Reads (and drops) until the connection ends or the deadline passes.
Ending wait_end(const Socket& s, std::chrono::milliseconds timeout);

double ms_between(SteadyTime a, SteadyTime b);

// Threads of this process and its open descriptors, from /proc/self.
int thread_count();
int fd_count();

}  // namespace faultline::testing
