#include "faults/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <set>
#include <stdexcept>
#include <system_error>
#include <unordered_map>

#include "common/error.h"
#include "common/rng.h"

namespace faultline {
namespace {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC, the timerfd's clock
using Time = Clock::time_point;
using Nanos = std::chrono::nanoseconds;
constexpr Time kNever = Time::max();

// epoll tags: the three fixed descriptors, then id * 2 + side for connection sockets.
constexpr uint64_t kListenerTag = 0;
constexpr uint64_t kWakeTag = 1;
constexpr uint64_t kTimerTag = 2;
constexpr uint64_t kFirstConnectionId = 2;

constexpr size_t kReadBytes = 64 * 1024;
// Bandwidth is paced in slices of this much time: small enough that a reader sees a steady
// rate, large enough that a fast rate is not a syscall per few bytes.
constexpr Nanos kBandwidthSlice = std::chrono::milliseconds(10);
// A graceful close reads (and drops) at most this much first, so the peer gets a FIN rather
// than the RST that closing a socket with unread data sends.
constexpr int kDrainReads = 32;

enum Side : int { kClient = 0, kServer = 1 };

std::string errno_text(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void set_int_option(int fd, int level, int name, int value) {
  (void)::setsockopt(fd, level, name, &value, sizeof value);
}

bool label_name_ok(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.' || c == ':' || c == '/';
    if (!ok) return false;
  }
  return true;
}

// The upstream's socket address when `host` is loopback (127.0.0.0/8, ::1, "localhost").
bool loopback_address(const std::string& host, int port, sockaddr_storage* out, socklen_t* length) {
  std::memset(out, 0, sizeof *out);
  const std::string h = host == "localhost" ? "127.0.0.1" : host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  if (::inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) return false;
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *length = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  if (::inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return false;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    *length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

sockaddr_in loopback_v4(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  return a;
}

int bound_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
  return ntohs(a.sin_port);
}

// A listening socket on 127.0.0.1:port. The port is always bound by number, even when the
// kernel picks it: Linux releases a port it picked when a listening socket stops listening,
// and `down` stops listening while keeping the port for when it ends.
int listen_on_loopback(int port) {
  int probe = -1;
  if (port == 0) {
    probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) throw EnvironmentError(errno_text("proxy: socket", errno));
    set_int_option(probe, SOL_SOCKET, SO_REUSEADDR, 1);
    const sockaddr_in any = loopback_v4(0);
    if (::bind(probe, reinterpret_cast<const sockaddr*>(&any), sizeof any) != 0) {
      const int err = errno;
      ::close(probe);
      throw EnvironmentError(errno_text("proxy: cannot bind 127.0.0.1", err));
    }
    port = bound_port(probe);
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const int err = errno;
    if (probe >= 0) ::close(probe);
    throw EnvironmentError(errno_text("proxy: socket", err));
  }
  // SO_REUSEADDR on both: two bound sockets that do not listen may share the port, so the
  // listener takes it over from the probe without a moment where the port is free.
  set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  const sockaddr_in addr = loopback_v4(port);
  const int rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int bind_err = errno;
  if (probe >= 0) ::close(probe);
  if (rc != 0 || ::listen(fd, SOMAXCONN) != 0) {
    const int err = rc != 0 ? bind_err : errno;
    ::close(fd);
    throw EnvironmentError(errno_text("proxy: cannot listen on 127.0.0.1:" + std::to_string(port) +
                                          " (pick another port, or 0 for a free one)",
                                      err));
  }
  return fd;
}

std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

// The event loop: owns the epoll set, the wake eventfd, the timerfd, the listener (from the
// constructor on) and every connection. Runs on the proxy's thread; only wake() and
// request_stop() are called from others.
class TcpProxy::Loop {
 public:
  Loop(TcpProxy& owner, int listen_fd, const sockaddr_storage& upstream, socklen_t upstream_len)
      : owner_(owner),
        listen_fd_(listen_fd),
        upstream_(upstream),
        upstream_len_(upstream_len),
        scratch_(kReadBytes) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0 || timer_fd_ < 0) {
      const int err = errno;
      close_fixed();
      throw EnvironmentError(errno_text("proxy: cannot create its event loop", err));
    }
    try {
      add_fixed(listen_fd_, kListenerTag);
      add_fixed(wake_fd_, kWakeTag);
      add_fixed(timer_fd_, kTimerTag);
    } catch (const std::exception& e) {
      close_fixed();
      throw EnvironmentError(std::string("proxy: ") + e.what());
    }
  }

  ~Loop() { close_fixed(); }

  void wake() {
    const uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }

  void request_stop() {
    stop_.store(true);
    wake();
  }

  void run() {
    try {
      sync_toxics(Clock::now());
      epoll_event events[64];
      while (!stop_.load()) {
        const int n = ::epoll_wait(epoll_fd_, events, 64, -1);
        if (n < 0) {
          if (errno == EINTR) continue;
          throw_errno("epoll_wait");
        }
        const Time now = Clock::now();
        touched_.clear();
        for (int i = 0; i < n; ++i) on_event(events[i], now);
        while (!timers_.empty() && timers_.begin()->first <= now) {
          const uint64_t id = timers_.begin()->second;
          timers_.erase(timers_.begin());
          if (Connection* c = find(id)) c->scheduled = kNever;
          touched_.push_back(id);
        }
        std::sort(touched_.begin(), touched_.end());
        touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
        for (uint64_t id : touched_) {
          if (Connection* c = find(id)) service(*c, now);
        }
        arm_timer();
      }
    } catch (const std::exception& e) {
      std::lock_guard lock(owner_.mutex_);
      owner_.last_error_ = std::string("proxy loop stopped: ") + e.what();
    }
    while (!connections_.empty()) destroy(*connections_.begin()->second, Close::kAbrupt);
    {
      std::lock_guard lock(owner_.mutex_);
      owner_.loop_done_ = true;
    }
    owner_.applied_cv_.notify_all();
  }

 private:
  struct Attachment {
    Toxic toxic;
    bool hit = false;
    bool counted = false;  // counted in the toxic's connections_affected
    Time attached_at;
    uint64_t position_at_attach = 0;  // bytes the direction had accepted when attached
    Rng draws{0};
    Time reset_at = kNever;  // reset_peer: set by the first data after attaching
  };

  // What the hit toxics of one direction do, recomputed whenever toxics change.
  struct Effects {
    bool held = false;  // a timeout toxic: nothing is read or written
    std::vector<Attachment*> resets;
    uint64_t limit_position = std::numeric_limits<uint64_t>::max();
    std::vector<Attachment*> latencies;
    Attachment* slicer = nullptr;
    int64_t rate_bytes_per_s = 0;  // 0: no bandwidth toxic
    Nanos slow_close{0};
  };

  struct Chunk {
    std::string bytes;
    size_t offset = 0;
    Time release_at;
  };

  // One direction of a connection: bytes read from `from`, held, written to `to`.
  struct Pipe {
    Pipe(Side f, Side t) : from(f), to(t) {}
    Side from;
    Side to;
    std::deque<Chunk> held;
    size_t held_bytes = 0;
    uint64_t accepted = 0;  // bytes read and kept (not dropped by reset_peer or limit_data)
    bool eof_read = false;  // the source sent its FIN
    Time eof_ready_at;      // when the FIN may follow the data before it (before slow_close)
    bool eof_sent = false;  // shutdown(SHUT_WR) done on the destination
    Time last_release = Time::min();
    Time bandwidth_next = Time::min();
    bool dest_blocked = false;  // the last write filled the destination's buffer
    Effects fx;
  };

  struct Connection {
    uint64_t id = 0;
    uint64_t ordinal = 0;
    int fd[2] = {-1, -1};
    bool connecting = true;
    uint32_t interest[2] = {0, 0};  // registered epoll events; 0 means not registered
    uint32_t ready[2] = {0, 0};     // events reported since the last service()
    Pipe up{kClient, kServer};
    Pipe down{kServer, kClient};
    std::map<std::string, Attachment, std::less<>> attachments;  // by toxic name
    Time close_at = kNever;                                      // timeout toxics
    Time scheduled = kNever;                                     // key in timers_
  };

  enum class Close { kGraceful, kReset, kAbrupt };

  void add_fixed(int fd, uint64_t tag) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) throw_errno("epoll_ctl");
  }

  void close_fixed() {
    for (int* fd : {&epoll_fd_, &wake_fd_, &timer_fd_, &listen_fd_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }

  Connection* find(uint64_t id) {
    auto it = connections_.find(id);
    return it == connections_.end() ? nullptr : it->second.get();
  }

  Pipe& pipe_of(Connection& c, ToxicDirection d) {
    return d == ToxicDirection::kUpstream ? c.up : c.down;
  }

  void on_event(const epoll_event& ev, Time now) {
    const uint64_t tag = ev.data.u64;
    if (tag == kListenerTag) {
      accept_all(now);
    } else if (tag == kWakeTag) {
      uint64_t count;
      (void)!::read(wake_fd_, &count, sizeof count);
      sync_toxics(now);
    } else if (tag == kTimerTag) {
      uint64_t expirations;
      (void)!::read(timer_fd_, &expirations, sizeof expirations);
      armed_at_ = kNever;  // it fired: arm_timer() must set it again, even to the same time
    } else if (Connection* c = find(tag >> 1)) {
      c->ready[tag & 1] |= ev.events;
      touched_.push_back(c->id);
    }
  }

  // ---- toxics ----

  // Brings every connection (and the listener) to the toxic set the owner holds now.
  void sync_toxics(Time now) {
    std::vector<Toxic> toxics;
    uint64_t version;
    {
      std::lock_guard lock(owner_.mutex_);
      version = owner_.toxics_version_;
      for (const auto& [name, record] : owner_.toxics_) {
        if (record.active) toxics.push_back(record.toxic);
      }
    }
    const bool want_down = std::any_of(toxics.begin(), toxics.end(),
                                       [](const Toxic& t) { return t.type == ToxicType::kDown; });
    if (want_down && !down_) go_down();
    if (!want_down && down_) go_up();

    std::map<std::string, uint64_t, std::less<>> affected;
    for (auto& [id, c] : connections_) reconcile(*c, toxics, now, &affected);
    {
      std::lock_guard lock(owner_.mutex_);
      for (const auto& [name, n] : affected) {
        auto it = owner_.toxics_.find(name);
        if (it != owner_.toxics_.end()) it->second.connections_affected += n;
      }
      owner_.applied_version_ = std::max(owner_.applied_version_, version);
    }
    owner_.applied_cv_.notify_all();
    // Held data may flow now, a limit may be reached, a timeout may be due.
    for (auto& [id, c] : connections_) touched_.push_back(id);
  }

  Attachment attach(const Connection& c, const Toxic& t, Time now) {
    Attachment a;
    a.toxic = t;
    a.hit = toxic_hits(owner_.options_.seed, t.name, c.ordinal, t.toxicity);
    a.attached_at = now;
    a.position_at_attach = (t.direction == ToxicDirection::kUpstream ? c.up : c.down).accepted;
    a.draws = Rng(toxic_stream_seed(owner_.options_.seed, t.name, c.ordinal));
    return a;
  }

  void reconcile(Connection& c, const std::vector<Toxic>& toxics, Time now,
                 std::map<std::string, uint64_t, std::less<>>* affected) {
    std::map<std::string, Attachment, std::less<>> next;
    for (const Toxic& t : toxics) {
      if (t.type == ToxicType::kDown) continue;
      auto it = c.attachments.find(t.name);
      Attachment a;
      if (it != c.attachments.end() && it->second.toxic.type == t.type &&
          it->second.toxic.direction == t.direction) {
        a = std::move(it->second);  // an update keeps byte counts, times and draws
        a.toxic = t;
        a.hit = toxic_hits(owner_.options_.seed, t.name, c.ordinal, t.toxicity);
        if (!a.hit) a.reset_at = kNever;
      } else {
        a = attach(c, t, now);
      }
      if (a.hit && !a.counted) {
        a.counted = true;
        ++(*affected)[t.name];
      }
      next.emplace(t.name, std::move(a));
    }
    c.attachments = std::move(next);
    recompute_effects(c);
  }

  void recompute_effects(Connection& c) {
    c.up.fx = Effects{};
    c.down.fx = Effects{};
    c.close_at = kNever;
    for (auto& [name, a] : c.attachments) {
      if (!a.hit) continue;
      const Toxic& t = a.toxic;
      Effects& fx = pipe_of(c, t.direction).fx;
      switch (t.type) {
        case ToxicType::kLatency:
          fx.latencies.push_back(&a);
          break;
        case ToxicType::kBandwidth: {
          const int64_t rate = t.rate_kb_per_s * 1000;
          fx.rate_bytes_per_s =
              fx.rate_bytes_per_s == 0 ? rate : std::min(fx.rate_bytes_per_s, rate);
          break;
        }
        case ToxicType::kTimeout:
          fx.held = true;
          if (t.timeout_ms > 0) {
            c.close_at =
                std::min(c.close_at, a.attached_at + std::chrono::milliseconds(t.timeout_ms));
          }
          break;
        case ToxicType::kResetPeer:
          fx.resets.push_back(&a);
          break;
        case ToxicType::kSlowClose:
          fx.slow_close = std::max<Nanos>(fx.slow_close, std::chrono::milliseconds(t.delay_ms));
          break;
        case ToxicType::kSlicer:
          if (fx.slicer == nullptr) fx.slicer = &a;  // the first by name
          break;
        case ToxicType::kLimitData:
          fx.limit_position =
              std::min(fx.limit_position, a.position_at_attach + static_cast<uint64_t>(t.bytes));
          break;
        case ToxicType::kDown:
          break;
      }
    }
  }

  void go_down() {
    // shutdown(SHUT_RD) on a listening socket stops listening (pending connections are reset)
    // but keeps the port bound, so connects are refused and listen() resumes later.
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    ::shutdown(listen_fd_, SHUT_RD);
    down_ = true;
    while (!connections_.empty()) destroy(*connections_.begin()->second, Close::kGraceful);
  }

  void go_up() {
    down_ = false;
    if (::listen(listen_fd_, SOMAXCONN) != 0) {
      std::lock_guard lock(owner_.mutex_);
      owner_.last_error_ = errno_text("proxy: cannot listen again after down", errno);
      return;
    }
    add_fixed(listen_fd_, kListenerTag);
  }

  // ---- connections ----

  void accept_all(Time now) {
    for (int i = 0; i < 64 && !down_; ++i) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          std::lock_guard lock(owner_.mutex_);
          owner_.last_error_ = errno_text("proxy: accept", errno);
        }
        return;
      }
      start_connection(fd, now);
    }
  }

  void start_connection(int client_fd, Time now) {
    auto owned = std::make_unique<Connection>();
    Connection& c = *owned;
    c.id = next_id_++;
    c.ordinal = next_ordinal_++;
    c.fd[kClient] = client_fd;
    owner_.accepted_.fetch_add(1);
    owner_.active_.fetch_add(1);
    connections_.emplace(c.id, std::move(owned));
    set_int_option(client_fd, IPPROTO_TCP, TCP_NODELAY, 1);

    const int up = ::socket(upstream_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (up < 0) {
      owner_.connect_failures_.fetch_add(1);
      destroy(c, Close::kReset);
      return;
    }
    c.fd[kServer] = up;
    set_int_option(up, IPPROTO_TCP, TCP_NODELAY, 1);
    if (::connect(up, reinterpret_cast<const sockaddr*>(&upstream_), upstream_len_) == 0) {
      c.connecting = false;
    } else if (errno != EINPROGRESS) {
      owner_.connect_failures_.fetch_add(1);
      destroy(c, Close::kReset);
      return;
    }

    std::vector<Toxic> toxics;
    {
      std::lock_guard lock(owner_.mutex_);
      for (const auto& [name, record] : owner_.toxics_) {
        if (record.active && record.toxic.type != ToxicType::kDown) toxics.push_back(record.toxic);
      }
    }
    std::map<std::string, uint64_t, std::less<>> affected;
    reconcile(c, toxics, now, &affected);
    if (!affected.empty()) {
      std::lock_guard lock(owner_.mutex_);
      for (const auto& [name, n] : affected) {
        auto it = owner_.toxics_.find(name);
        if (it != owner_.toxics_.end()) it->second.connections_affected += n;
      }
    }
    update(c);
  }

  // Closes both sockets and forgets the connection. REQUIRES: the caller does not touch `c`
  // afterwards.
  void destroy(Connection& c, Close how) {
    for (int side : {kClient, kServer}) {
      int& fd = c.fd[side];
      if (fd < 0) continue;
      if (how == Close::kReset) {
        const linger l{1, 0};  // close() sends RST and drops unsent data
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      } else if (how == Close::kGraceful) {
        for (int i = 0; i < kDrainReads; ++i) {
          if (::recv(fd, scratch_.data(), scratch_.size(), MSG_DONTWAIT) <= 0) break;
        }
      }
      ::close(fd);  // also leaves the epoll set
      fd = -1;
    }
    if (c.scheduled != kNever) timers_.erase({c.scheduled, c.id});
    owner_.active_.fetch_sub(1);
    connections_.erase(c.id);
  }

  bool wants_read(const Connection& c, const Pipe& p) const {
    return !c.connecting && !p.eof_read && !p.fx.held &&
           p.held_bytes < owner_.options_.max_held_bytes_per_direction;
  }

  static Time reset_time(const Connection& c) {
    Time t = kNever;
    for (const auto& [name, a] : c.attachments) t = std::min(t, a.reset_at);
    return t;
  }

  static Time eof_due(const Pipe& p) { return p.eof_ready_at + p.fx.slow_close; }

  // Moves the connection as far as it can go now: connect completion, toxic deadlines,
  // reads, writes and FINs of both directions. May destroy it.
  void service(Connection& c, Time now) {
    if (now >= reset_time(c)) return destroy(c, Close::kReset);
    if (now >= c.close_at) return destroy(c, Close::kGraceful);
    if (c.connecting) {
      const uint32_t ev = c.ready[kServer];
      if ((ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return update(c);
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(c.fd[kServer], SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || (ev & EPOLLERR) != 0) {
        owner_.connect_failures_.fetch_add(1);
        return destroy(c, Close::kReset);
      }
      c.connecting = false;
      c.ready[kServer] &= ~static_cast<uint32_t>(EPOLLOUT);
    }
    if ((c.ready[kClient] | c.ready[kServer]) & EPOLLERR) return destroy(c, Close::kReset);
    if (!pump(c, c.up, now)) return;
    if (!pump(c, c.down, now)) return;
    if (c.up.eof_sent && c.down.eof_sent) return destroy(c, Close::kGraceful);
    c.ready[kClient] = c.ready[kServer] = 0;
    update(c);
  }

  // One direction: read what epoll reported, write what is due, pass the FIN. Returns false
  // when the connection was destroyed.
  bool pump(Connection& c, Pipe& p, Time now) {
    constexpr uint32_t kReadable = EPOLLIN | EPOLLHUP | EPOLLRDHUP;
    if (wants_read(c, p) && (c.ready[p.from] & kReadable) != 0) {
      const ssize_t n = ::recv(c.fd[p.from], scratch_.data(), scratch_.size(), 0);
      if (n > 0) {
        if (!take(c, p, static_cast<size_t>(n), now)) return false;
      } else if (n == 0) {
        p.eof_read = true;
        p.eof_ready_at = std::max(now, p.last_release);
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        destroy(c, Close::kReset);  // the source reset: so does the other side
        return false;
      }
    }
    if (p.fx.held) return true;
    if (p.dest_blocked && (c.ready[p.to] & (EPOLLOUT | EPOLLHUP)) != 0) p.dest_blocked = false;
    if (!p.dest_blocked && !flush(c, p, now)) return false;
    if (p.accepted >= p.fx.limit_position && p.held.empty()) {
      destroy(c, Close::kGraceful);
      return false;
    }
    if (p.eof_read && !p.eof_sent && p.held.empty() && now >= eof_due(p)) {
      ::shutdown(c.fd[p.to], SHUT_WR);
      p.eof_sent = true;
    }
    return true;
  }

  Nanos draw_latency(Attachment& a) {
    int64_t us = a.toxic.latency_ms * 1000;
    if (a.toxic.jitter_ms > 0) {
      us += a.draws.uniform_int(-a.toxic.jitter_ms * 1000, a.toxic.jitter_ms * 1000);
    }
    return std::chrono::microseconds(std::max<int64_t>(us, 0));
  }

  // Takes n bytes just read (in scratch_) into the direction. Returns false when the
  // connection was destroyed.
  bool take(Connection& c, Pipe& p, size_t n, Time now) {
    Effects& fx = p.fx;
    if (!fx.resets.empty()) {
      // reset_peer: the data is dropped and the reset armed (by the first data only).
      for (Attachment* a : fx.resets) {
        if (a->reset_at == kNever) {
          a->reset_at = now + std::chrono::milliseconds(a->toxic.timeout_ms);
        }
      }
      return true;
    }
    if (fx.limit_position != std::numeric_limits<uint64_t>::max()) {
      if (p.accepted >= fx.limit_position) return true;  // past the limit: dropped
      n = static_cast<size_t>(std::min<uint64_t>(n, fx.limit_position - p.accepted));
    }
    Nanos delay{0};
    for (Attachment* a : fx.latencies) delay += draw_latency(*a);
    const Time release = std::max(now + delay, p.last_release);
    p.accepted += n;
    const char* data = scratch_.data();

    if (fx.slicer != nullptr) {
      Attachment& s = *fx.slicer;
      const auto gap = std::chrono::microseconds(s.toxic.delay_us);
      Time at = release;
      size_t offset = 0;
      while (offset < n) {
        int64_t size = s.toxic.average_size;
        if (s.toxic.size_variation > 0) {
          size += s.draws.uniform_int(-s.toxic.size_variation, s.toxic.size_variation);
        }
        const size_t piece = std::min(n - offset, static_cast<size_t>(std::max<int64_t>(size, 1)));
        p.held.push_back(Chunk{std::string(data + offset, piece), 0, at});
        p.held_bytes += piece;
        offset += piece;
        p.last_release = at;
        at += gap;
      }
      return true;
    }

    p.last_release = release;
    size_t sent = 0;
    if (p.held.empty() && release <= now && fx.rate_bytes_per_s == 0 && !p.dest_blocked) {
      // Nothing delays these bytes: write them straight from the read buffer.
      const ssize_t w = ::send(c.fd[p.to], data, n, MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        destroy(c, Close::kReset);
        return false;
      }
      if (w > 0) {
        sent = static_cast<size_t>(w);
        count_written(p, sent);
      }
      if (sent < n) p.dest_blocked = true;
    }
    if (sent < n) {
      p.held.push_back(Chunk{std::string(data + sent, n - sent), 0, release});
      p.held_bytes += n - sent;
    }
    return true;
  }

  void count_written(const Pipe& p, size_t n) {
    auto& counter = p.from == kClient ? owner_.bytes_upstream_ : owner_.bytes_downstream_;
    counter.fetch_add(n, std::memory_order_relaxed);
  }

  // Writes the held chunks that are due. Returns false when the connection was destroyed.
  bool flush(Connection& c, Pipe& p, Time now) {
    const int64_t rate = p.fx.rate_bytes_per_s;
    while (!p.held.empty()) {
      Chunk& chunk = p.held.front();
      if (chunk.release_at > now) break;
      size_t len = chunk.bytes.size() - chunk.offset;
      if (rate > 0) {
        if (now < p.bandwidth_next) break;
        const auto slice_bytes = static_cast<size_t>(
            std::max<int64_t>(1, rate * kBandwidthSlice.count() / 1'000'000'000));
        len = std::min(len, slice_bytes);
      }
      const ssize_t w = ::send(c.fd[p.to], chunk.bytes.data() + chunk.offset, len, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          p.dest_blocked = true;
          break;
        }
        destroy(c, Close::kReset);
        return false;
      }
      const auto written = static_cast<size_t>(w);
      count_written(p, written);
      p.held_bytes -= written;
      chunk.offset += written;
      if (rate > 0) {
        // Credit lost to a late timer is made up, but never more than one slice of it, so
        // an idle connection cannot save up a burst.
        const Time base = std::max(p.bandwidth_next, now - kBandwidthSlice);
        p.bandwidth_next = base + Nanos(static_cast<int64_t>(written) * 1'000'000'000 / rate);
      }
      if (chunk.offset == chunk.bytes.size()) p.held.pop_front();
      if (written < len) {
        p.dest_blocked = true;
        break;
      }
    }
    return true;
  }

  // Registers the epoll events the connection waits for now and its next deadline.
  void update(Connection& c) {
    uint32_t want[2] = {0, 0};
    if (c.connecting) {
      want[kServer] = EPOLLOUT;
    } else {
      for (Pipe* p : {&c.up, &c.down}) {
        if (wants_read(c, *p)) want[p->from] |= EPOLLIN;
        if (!p->fx.held && p->dest_blocked) want[p->to] |= EPOLLOUT;
      }
    }
    for (int side : {kClient, kServer}) {
      if (want[side] == c.interest[side] || c.fd[side] < 0) continue;
      // A socket that waits for nothing leaves the set: level-triggered epoll would report
      // its HUP or ERR over and over while, say, a timeout toxic holds it.
      epoll_event ev{};
      ev.events = want[side];
      ev.data.u64 = c.id * 2 + static_cast<uint64_t>(side);
      const int op = want[side] == 0         ? EPOLL_CTL_DEL
                     : c.interest[side] == 0 ? EPOLL_CTL_ADD
                                             : EPOLL_CTL_MOD;
      if (::epoll_ctl(epoll_fd_, op, c.fd[side], &ev) != 0) throw_errno("epoll_ctl");
      c.interest[side] = want[side];
    }

    Time next = std::min(c.close_at, reset_time(c));
    for (const Pipe* p : {&c.up, &c.down}) {
      if (p->fx.held) continue;
      if (!p->held.empty() && !p->dest_blocked) {
        Time t = p->held.front().release_at;
        if (p->fx.rate_bytes_per_s > 0) t = std::max(t, p->bandwidth_next);
        next = std::min(next, t);
      }
      if (p->eof_read && !p->eof_sent && p->held.empty()) next = std::min(next, eof_due(*p));
    }
    if (next != c.scheduled) {
      if (c.scheduled != kNever) timers_.erase({c.scheduled, c.id});
      if (next != kNever) timers_.insert({next, c.id});
      c.scheduled = next;
    }
  }

  void arm_timer() {
    const Time next = timers_.empty() ? kNever : timers_.begin()->first;
    if (next == armed_at_) return;
    itimerspec spec{};
    if (next != kNever) {
      const int64_t ns =
          std::max<int64_t>(1, std::chrono::duration_cast<Nanos>(next.time_since_epoch()).count());
      spec.it_value.tv_sec = ns / 1'000'000'000;
      spec.it_value.tv_nsec = ns % 1'000'000'000;
    }
    if (::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
      throw_errno("timerfd_settime");
    }
    armed_at_ = next;
  }

  TcpProxy& owner_;
  int listen_fd_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int timer_fd_ = -1;
  sockaddr_storage upstream_;
  socklen_t upstream_len_;
  std::atomic<bool> stop_{false};
  bool down_ = false;
  uint64_t next_id_ = kFirstConnectionId;
  uint64_t next_ordinal_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::set<std::pair<Time, uint64_t>> timers_;
  Time armed_at_ = kNever;
  std::vector<uint64_t> touched_;
  std::vector<char> scratch_;
};

TcpProxy::TcpProxy(TcpProxyOptions options) : options_(std::move(options)) {
  if (!label_name_ok(options_.name)) {
    throw UsageError("proxy name '" + options_.name +
                     "': use 1 to 128 letters, digits and _-.:/ (it labels the proxy's metrics)");
  }
  if (options_.upstream_port < 1 || options_.upstream_port > 65535) {
    throw UsageError("proxy '" + options_.name + "': upstream port " +
                     std::to_string(options_.upstream_port) + " is not in 1..65535");
  }
  if (options_.listen_port < 0 || options_.listen_port > 65535) {
    throw UsageError("proxy '" + options_.name + "': listen port " +
                     std::to_string(options_.listen_port) + " is not in 0..65535");
  }
  sockaddr_storage upstream;
  socklen_t upstream_len = 0;
  if (!loopback_address(options_.upstream_host, options_.upstream_port, &upstream, &upstream_len)) {
    throw UsageError("proxy '" + options_.name + "': upstream host '" + options_.upstream_host +
                     "' is not loopback; a proxy forwards only to 127.0.0.0/8, ::1 or localhost");
  }
  const int listen_fd = listen_on_loopback(options_.listen_port);
  port_ = bound_port(listen_fd);
  loop_ = std::make_unique<Loop>(*this, listen_fd, upstream, upstream_len);  // owns listen_fd
  thread_ = std::thread([this] { loop_->run(); });
}

TcpProxy::~TcpProxy() {
  stop();
}

void TcpProxy::stop() {
  std::lock_guard stop_lock(stop_mutex_);
  if (stopped_) return;
  stopped_ = true;
  loop_->request_stop();
  thread_.join();
  loop_.reset();  // closes the listener, epoll, eventfd and timerfd
}

void TcpProxy::wake_loop() {
  std::lock_guard stop_lock(stop_mutex_);
  if (!stopped_) loop_->wake();
}

void TcpProxy::change_toxics(const std::function<void()>& edit) {
  {
    std::lock_guard lock(mutex_);
    edit();
    ++toxics_version_;
  }
  wake_loop();
}

void TcpProxy::add_toxic(const Toxic& toxic) {
  if (auto problem = toxic_problem(toxic)) throw std::invalid_argument(*problem);
  {
    std::lock_guard lock(mutex_);
    auto it = toxics_.find(toxic.name);
    if (it != toxics_.end() && it->second.active) {
      throw std::invalid_argument("proxy '" + options_.name + "' already has a toxic named '" +
                                  toxic.name + "'");
    }
  }
  set_toxic(toxic);
}

void TcpProxy::update_toxic(const Toxic& toxic) {
  if (auto problem = toxic_problem(toxic)) throw std::invalid_argument(*problem);
  {
    std::lock_guard lock(mutex_);
    auto it = toxics_.find(toxic.name);
    if (it == toxics_.end() || !it->second.active) {
      throw std::invalid_argument("proxy '" + options_.name + "' has no toxic named '" +
                                  toxic.name + "'");
    }
  }
  set_toxic(toxic);
}

void TcpProxy::set_toxic(const Toxic& toxic) {
  if (auto problem = toxic_problem(toxic)) throw std::invalid_argument(*problem);
  change_toxics([&] {
    ToxicRecord& r = toxics_[toxic.name];  // a toxic set again keeps its counter
    r.toxic = toxic;
    r.active = true;
  });
}

bool TcpProxy::remove_toxic(std::string_view name) {
  bool found = false;
  change_toxics([&] {
    auto it = toxics_.find(name);
    if (it != toxics_.end() && it->second.active) {
      it->second.active = false;
      found = true;
    }
  });
  return found;
}

void TcpProxy::remove_all_toxics() {
  change_toxics([&] {
    for (auto& [name, r] : toxics_) r.active = false;
  });
}

std::vector<Toxic> TcpProxy::toxics() const {
  std::lock_guard lock(mutex_);
  std::vector<Toxic> out;
  for (const auto& [name, r] : toxics_) {
    if (r.active) out.push_back(r.toxic);
  }
  return out;
}

bool TcpProxy::wait_applied(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const uint64_t target = toxics_version_;
  applied_cv_.wait_for(lock, timeout, [&] { return applied_version_ >= target || loop_done_; });
  return applied_version_ >= target && !loop_done_;
}

TcpProxyCounters TcpProxy::counters() const {
  TcpProxyCounters c;
  c.connections_accepted = accepted_.load();
  c.connections_active = active_.load();
  c.upstream_connect_failures = connect_failures_.load();
  c.bytes_upstream = bytes_upstream_.load();
  c.bytes_downstream = bytes_downstream_.load();
  return c;
}

uint64_t TcpProxy::connections_affected(std::string_view toxic_name) const {
  std::lock_guard lock(mutex_);
  auto it = toxics_.find(toxic_name);
  return it == toxics_.end() ? 0 : it->second.connections_affected;
}

std::string TcpProxy::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

std::string TcpProxy::metrics_text() const {
  const TcpProxyCounters c = counters();
  const std::string proxy = "proxy=\"" + escape_label(options_.name) + "\"";
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  auto sample = [&](const char* name, const std::string& labels, uint64_t value) {
    out += std::string(name) + "{" + labels + "} " + std::to_string(value) + "\n";
  };
  family("faultline_proxy_connections_accepted_total", "counter",
         "Connections the proxy accepted.");
  sample("faultline_proxy_connections_accepted_total", proxy, c.connections_accepted);
  family("faultline_proxy_connections_active", "gauge", "Connections open now.");
  sample("faultline_proxy_connections_active", proxy, c.connections_active);
  family("faultline_proxy_upstream_connect_failures_total", "counter",
         "Connections closed because the upstream could not be reached.");
  sample("faultline_proxy_upstream_connect_failures_total", proxy, c.upstream_connect_failures);
  family("faultline_proxy_bytes_total", "counter",
         "Bytes written by the proxy, by direction (upstream: to the service).");
  sample("faultline_proxy_bytes_total", proxy + ",direction=\"upstream\"", c.bytes_upstream);
  sample("faultline_proxy_bytes_total", proxy + ",direction=\"downstream\"", c.bytes_downstream);

  std::lock_guard lock(mutex_);
  bool down = false;
  for (const auto& [name, r] : toxics_)
    down = down || (r.active && r.toxic.type == ToxicType::kDown);
  family("faultline_proxy_down", "gauge", "1 while a down toxic refuses connections.");
  sample("faultline_proxy_down", proxy, down ? 1 : 0);
  family("faultline_proxy_toxic_active", "gauge", "1 for each toxic set on the proxy now.");
  for (const auto& [name, r] : toxics_) {
    if (!r.active) continue;
    sample("faultline_proxy_toxic_active",
           proxy + ",toxic=\"" + escape_label(name) + "\",type=\"" +
               std::string(toxic_type_name(r.toxic.type)) + "\",direction=\"" +
               std::string(toxic_direction_name(r.toxic.direction)) + "\"",
           1);
  }
  family("faultline_proxy_toxic_connections_affected_total", "counter",
         "Connections a toxic acted on (its toxicity hit them).");
  for (const auto& [name, r] : toxics_) {
    sample("faultline_proxy_toxic_connections_affected_total",
           proxy + ",toxic=\"" + escape_label(name) + "\"", r.connections_affected);
  }
  return out;
}

}  // namespace faultline
