#include "proxy_test_peers.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <stdexcept>

namespace faultline::testing {
namespace {

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  return a;
}

int remaining_ms(SteadyTime deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

int count_dir(const char* path) {
  DIR* d = ::opendir(path);
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

}  // namespace

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    reset();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

void Socket::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

EchoServer::EchoServer(EchoOptions options) : options_(options) {
  listener_ = Socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const sockaddr_in any = loopback(0);
  if (listener_.fd() < 0 ||
      ::bind(listener_.fd(), reinterpret_cast<const sockaddr*>(&any), sizeof any) != 0 ||
      ::listen(listener_.fd(), 256) != 0) {
    throw std::runtime_error("echo server: cannot listen on 127.0.0.1");
  }
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  ::getsockname(listener_.fd(), reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.sin_port);
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("echo server: pipe");
  thread_ = std::thread([this] { run(); });
}

EchoServer::~EchoServer() {
  (void)!::write(stop_pipe_[1], "x", 1);
  thread_.join();
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

void EchoServer::run() {
  struct Peer {
    Socket socket;
    int index;
    size_t echoed = 0;
  };
  std::map<int, Peer> peers;  // by fd
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    std::vector<pollfd> fds = {{stop_pipe_[0], POLLIN, 0}, {listener_.fd(), POLLIN, 0}};
    for (const auto& [fd, peer] : peers) fds.push_back({fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents != 0) return;
    if (fds[1].revents & POLLIN) {
      const int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        // A bounded send: a test that stops reading cannot hang the server's thread.
        const timeval five_seconds{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &five_seconds, sizeof five_seconds);
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::lock_guard lock(mutex_);
        peers.emplace(fd, Peer{Socket(fd), connections_++});
      }
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Peer& peer = peers.at(fds[i].fd);
      const ssize_t n = ::recv(fds[i].fd, buffer.data(), buffer.size(), 0);
      if (n <= 0) {
        peers.erase(fds[i].fd);
        continue;
      }
      {
        std::lock_guard lock(mutex_);
        arrivals_.push_back({std::chrono::steady_clock::now(), static_cast<size_t>(n), peer.index});
        bytes_ += static_cast<size_t>(n);
      }
      changed_.notify_all();
      size_t off = 0;
      while (off < static_cast<size_t>(n)) {
        const ssize_t w = ::send(fds[i].fd, buffer.data() + off, n - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += static_cast<size_t>(w);
      }
      peer.echoed += off;
      if (off < static_cast<size_t>(n) ||
          (options_.close_after_bytes > 0 && peer.echoed >= options_.close_after_bytes)) {
        peers.erase(fds[i].fd);
      }
    }
  }
}

std::vector<EchoServer::Arrival> EchoServer::arrivals() const {
  std::lock_guard lock(mutex_);
  return arrivals_;
}

size_t EchoServer::bytes_received() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

int EchoServer::connections() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

bool EchoServer::wait_bytes(size_t bytes, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return bytes_ >= bytes; });
}

Socket connect_loopback(int port, int* error) {
  Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const sockaddr_in a = loopback(port);
  if (::connect(s.fd(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    if (error != nullptr) *error = errno;
    return Socket();
  }
  const int one = 1;
  ::setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (error != nullptr) *error = 0;
  return s;
}

void send_all(const Socket& s, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t w = ::send(s.fd(), data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("send failed");
    }
    off += static_cast<size_t>(w);
  }
}

Received receive(const Socket& s, size_t n, std::chrono::milliseconds timeout) {
  Received r;
  const SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<char> buffer(64 * 1024);
  while (r.bytes.size() < n) {
    pollfd p{s.fd(), POLLIN, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;  // the deadline
    const ssize_t got =
        ::recv(s.fd(), buffer.data(), std::min(buffer.size(), n - r.bytes.size()), MSG_DONTWAIT);
    if (got > 0) {
      r.bytes.append(buffer.data(), static_cast<size_t>(got));
      r.reads.push_back(static_cast<size_t>(got));
      r.last_at = std::chrono::steady_clock::now();
    } else if (got == 0) {
      r.eof = true;
      break;
    } else if (errno != EAGAIN && errno != EINTR) {
      r.error = errno;
      break;
    }
  }
  return r;
}

Ending wait_end(const Socket& s, std::chrono::milliseconds timeout) {
  const SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  for (;;) {
    pollfd p{s.fd(), POLLIN, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return Ending::kStillOpen;
    const ssize_t got = ::recv(s.fd(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (got == 0) return Ending::kEof;
    if (got < 0 && errno != EAGAIN && errno != EINTR) return Ending::kReset;
  }
}

double ms_between(SteadyTime a, SteadyTime b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

int thread_count() {
  return count_dir("/proc/self/task");
}
int fd_count() {
  return count_dir("/proc/self/fd");
}

}  // namespace faultline::testing
