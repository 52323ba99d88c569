// Benchmark target for coordinated omission (bench/coordinated-omission): a single-threaded
// epoll HTTP/1.1 keep-alive server that answers every request with 200 and a short body, except
// during its stalls: within [k*period + offset, k*period + offset + stall) of its own clock
// (CLOCK_MONOTONIC, counted from --start-mono-ns or from its own start) it answers nothing.
// It keeps reading during a stall; what it read is answered when the stall ends, in order.
//
// It writes, for the script's ground truth:
//   --stall-log FILE: a line `clock <realtime_ns> <monotonic_ns>` (one reading of both clocks)
//     and `start <monotonic_ns>` (the schedule's origin), then one line per stall it applied:
//     `stall <k> <start_ns> <end_ns>` in CLOCK_MONOTONIC ns, where start is the scheduled start
//     (from then on nothing is answered) and end the moment it began answering again (at or
//     just after the scheduled end: the loop wakes at the deadline).
//   --request-log FILE: one line per request: `<monotonic_ns> <X-Request-Id or ->`, the time
//     its head was read. That relates a client's own clock to this server's (the script
//     matches request ids with faultline's samples).
// Logs are kept in memory and written when the server stops (SIGTERM, SIGINT or
// --max-seconds), so writing them costs nothing while it serves.
//
// Not a test and not part of faultline: it exists to be measured against.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <cxxopts.hpp>

namespace {

int64_t now_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

constexpr std::string_view kResponse =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";

// One client connection. Invariant: `in` holds bytes read but not yet parsed into a request;
// `out` holds response bytes not yet written; `held` counts requests read during a stall that
// are answered when it ends.
struct Connection {
  int fd = -1;
  std::string in;
  std::string out;
  uint32_t held = 0;
  bool want_write = false;  // EPOLLOUT is registered
};

// The stall schedule: windows [origin + k*period + offset, ... + stall), k = 0, 1, ...
struct Schedule {
  int64_t origin_ns = 0, period_ns = 0, offset_ns = 0, stall_ns = 0;

  // The index k of the window that contains t, or -1.
  int64_t window_at(int64_t t) const {
    if (stall_ns <= 0 || t < origin_ns) return -1;
    const int64_t k = (t - origin_ns) / period_ns;
    const int64_t in_period = (t - origin_ns) % period_ns;
    return in_period >= offset_ns && in_period < offset_ns + stall_ns ? k : -1;
  }
  int64_t start_of(int64_t k) const { return origin_ns + k * period_ns + offset_ns; }
  int64_t end_of(int64_t k) const { return start_of(k) + stall_ns; }
  // The next boundary (a window's start or end) after t.
  int64_t next_boundary(int64_t t) const {
    if (stall_ns <= 0) return INT64_MAX;
    if (t < origin_ns) return start_of(0);
    const int64_t k = (t - origin_ns) / period_ns;
    if (t < start_of(k)) return start_of(k);
    if (t < end_of(k)) return end_of(k);
    return start_of(k + 1);
  }
};

class Server {
 public:
  Server(int listen_fd, int signal_fd, Schedule schedule, int64_t deadline_ns, bool log_requests)
      : listen_fd_(listen_fd),
        signal_fd_(signal_fd),
        schedule_(schedule),
        deadline_ns_(deadline_ns),
        log_requests_(log_requests) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    add(listen_fd_, EPOLLIN);
    add(signal_fd_, EPOLLIN);
  }

  // Serves until a signal or the deadline.
  void run() {
    std::vector<epoll_event> events(1024);
    int64_t stall = -1;  // the window in force, or -1
    for (;;) {
      int64_t now = now_ns(CLOCK_MONOTONIC);
      if (now >= deadline_ns_) return;
      const int64_t window = schedule_.window_at(now);
      if (stall >= 0 && window != stall) {
        // The stall is over: answer everything read during it.
        stalls_.push_back({stall, schedule_.start_of(stall), now});
        stall = -1;
        for (auto& c : conns_)
          if (c.fd >= 0 && c.held > 0) answer_held(c);
      }
      if (window >= 0 && stall < 0) stall = window;
      const int64_t wake = std::min(schedule_.next_boundary(now), deadline_ns_);
      // Round up so the loop never wakes just before a boundary and spins.
      const int timeout_ms =
          static_cast<int>(std::min<int64_t>((wake - now + 999'999) / 1'000'000, 1000));
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), timeout_ms);
      if (n < 0) {
        if (errno == EINTR) continue;
        std::perror("stall_server: epoll_wait");
        return;
      }
      now = now_ns(CLOCK_MONOTONIC);
      // A stall that began while waiting holds what arrives from now on.
      if (stall < 0) stall = schedule_.window_at(now);
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == signal_fd_) return;
        if (fd == listen_fd_) {
          accept_all();
          continue;
        }
        Connection& c = conns_[static_cast<size_t>(fd)];
        if (c.fd < 0) continue;
        if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) read_from(c, now, stall >= 0);
        if (c.fd >= 0 && (events[i].events & EPOLLOUT)) flush(c);
      }
    }
  }

  struct Stall {
    int64_t k, start_ns, end_ns;
  };
  const std::vector<Stall>& stalls() const { return stalls_; }
  const std::string& request_log() const { return request_log_; }
  size_t max_connections() const { return max_open_; }

 private:
  void add(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
  }

  void accept_all() {
    for (;;) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or out of descriptors (the client sees a refusal)
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (conns_.size() <= static_cast<size_t>(fd)) conns_.resize(static_cast<size_t>(fd) + 1);
      conns_[static_cast<size_t>(fd)] = Connection{};
      conns_[static_cast<size_t>(fd)].fd = fd;
      add(fd, EPOLLIN | EPOLLRDHUP);
      ++open_;
      max_open_ = std::max(max_open_, open_);
    }
  }

  void close_conn(Connection& c) {
    close(c.fd);  // also removes it from the epoll set
    c = Connection{};
    --open_;
  }

  void read_from(Connection& c, int64_t now, bool stalled) {
    char buf[16384];
    for (;;) {
      const ssize_t got = read(c.fd, buf, sizeof buf);
      if (got > 0) {
        c.in.append(buf, static_cast<size_t>(got));
        continue;
      }
      if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        close_conn(c);
        return;
      }
      if (errno == EAGAIN) break;
    }
    // Every complete request head (GET: no body; a Content-Length body is skipped).
    size_t pos = 0;
    for (;;) {
      const size_t head_end = c.in.find("\r\n\r\n", pos);
      if (head_end == std::string::npos) break;
      const std::string_view head(c.in.data() + pos, head_end - pos);
      size_t body = 0;
      if (const size_t cl = find_header(head, "content-length"); cl != std::string_view::npos)
        body = std::strtoul(std::string(head.substr(cl)).c_str(), nullptr, 10);
      if (head_end + 4 + body > c.in.size()) break;
      if (log_requests_) {
        std::string id = "-";
        if (const size_t at = find_header(head, "x-request-id"); at != std::string_view::npos) {
          const size_t eol = head.find("\r\n", at);
          id = std::string(head.substr(at, eol == std::string_view::npos ? eol : eol - at));
        }
        request_log_ += std::to_string(now) + " " + id + "\n";
      }
      if (stalled)
        ++c.held;
      else
        c.out += kResponse;
      pos = head_end + 4 + body;
    }
    c.in.erase(0, pos);
    if (!c.out.empty()) flush(c);
  }

  // The offset of header `name`'s value in `head` (case-insensitive name), or npos.
  static size_t find_header(std::string_view head, std::string_view name) {
    size_t line = head.find("\r\n");
    while (line != std::string_view::npos) {
      const size_t start = line + 2;
      if (head.size() >= start + name.size() + 1 && head[start + name.size()] == ':' &&
          strncasecmp(head.data() + start, name.data(), name.size()) == 0) {
        size_t v = start + name.size() + 1;
        while (v < head.size() && head[v] == ' ') ++v;
        return v;
      }
      line = head.find("\r\n", start);
    }
    return std::string_view::npos;
  }

  void answer_held(Connection& c) {
    for (; c.held > 0; --c.held) c.out += kResponse;
    flush(c);
  }

  void flush(Connection& c) {
    while (!c.out.empty()) {
      const ssize_t n = write(c.fd, c.out.data(), c.out.size());
      if (n < 0) {
        if (errno == EAGAIN) break;
        if (errno == EINTR) continue;
        close_conn(c);
        return;
      }
      c.out.erase(0, static_cast<size_t>(n));
    }
    const bool want = !c.out.empty();
    if (want != c.want_write) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
      ev.data.fd = c.fd;
      epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
      c.want_write = want;
    }
  }

  int epoll_ = -1;
  int listen_fd_, signal_fd_;
  Schedule schedule_;
  int64_t deadline_ns_;
  bool log_requests_;
  std::vector<Connection> conns_;  // by file descriptor
  size_t open_ = 0, max_open_ = 0;
  std::vector<Stall> stalls_;
  std::string request_log_;
};

int listen_on(uint16_t port, uint16_t* bound) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 8192) != 0) {
    std::perror("stall_server: bind/listen");
    return -1;
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *bound = ntohs(addr.sin_port);
  return fd;
}

bool write_file(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options opts("stall_server",
                        "HTTP/1.1 keep-alive server (GET -> 200 \"ok\") on 127.0.0.1 that stalls "
                        "periodically:\nnothing is answered within [k*period + offset, k*period + "
                        "offset + stall) of CLOCK_MONOTONIC\nfrom its origin; requests read then "
                        "are answered at the stall's end.");
  opts.add_options()("port", "port to listen on; 0: any free one (see --port-file)",
                     cxxopts::value<uint16_t>()->default_value("0"))(
      "port-file", "write the bound port here once listening", cxxopts::value<std::string>())(
      "free-port", "print a free 127.0.0.1 port and exit")(
      "start-mono-ns", "origin of the stall schedule, CLOCK_MONOTONIC ns (default: now)",
      cxxopts::value<int64_t>())("period-ms", "stall period",
                                 cxxopts::value<int64_t>()->default_value("10000"))(
      "offset-ms", "start of the stall within each period",
      cxxopts::value<int64_t>()->default_value("5000"))(
      "stall-ms", "length of each stall (0: never stall)",
      cxxopts::value<int64_t>()->default_value("1000"))(
      "stall-log", "write the stall windows applied here (at exit)", cxxopts::value<std::string>())(
      "request-log",
      "write `<monotonic_ns> <X-Request-Id>` per request here "
      "(at exit)",
      cxxopts::value<std::string>())("max-seconds", "stop after this long whatever happens",
                                     cxxopts::value<int64_t>()->default_value("600"))(
      "h,help", "show this help");
  cxxopts::ParseResult args;
  try {
    args = opts.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << "stall_server: " << e.what() << " (see --help)\n";
    return 2;
  }
  if (args.count("help")) {
    std::cout << opts.help() << "\n";
    return 0;
  }
  uint16_t port = 0;
  if (args.count("free-port")) {
    const int fd = listen_on(0, &port);
    if (fd < 0) return 1;
    close(fd);
    std::cout << port << "\n";
    return 0;
  }
  Schedule schedule;
  schedule.period_ns = args["period-ms"].as<int64_t>() * 1'000'000;
  schedule.offset_ns = args["offset-ms"].as<int64_t>() * 1'000'000;
  schedule.stall_ns = args["stall-ms"].as<int64_t>() * 1'000'000;
  if (schedule.period_ns <= 0 || schedule.offset_ns < 0 || schedule.stall_ns < 0 ||
      schedule.offset_ns + schedule.stall_ns > schedule.period_ns) {
    std::cerr << "stall_server: need period > 0 and 0 <= offset, offset + stall <= period\n";
    return 2;
  }

  // Signals arrive through a descriptor in the epoll set, so the loop stops between events.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  const int signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

  // One descriptor per connection: thousands of them need more than the usual soft limit.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  const int listen_fd = listen_on(args["port"].as<uint16_t>(), &port);
  if (listen_fd < 0) return 1;
  const int64_t realtime = now_ns(CLOCK_REALTIME);
  const int64_t start = now_ns(CLOCK_MONOTONIC);
  schedule.origin_ns = args.count("start-mono-ns") ? args["start-mono-ns"].as<int64_t>() : start;
  if (args.count("port-file") &&
      !write_file(args["port-file"].as<std::string>(), std::to_string(port) + "\n")) {
    std::perror("stall_server: --port-file");
    return 1;
  }
  std::printf(
      "stall_server: listening on 127.0.0.1:%u, stall %lld ms at +%lld ms of every %lld ms\n", port,
      static_cast<long long>(schedule.stall_ns / 1'000'000),
      static_cast<long long>(schedule.offset_ns / 1'000'000),
      static_cast<long long>(schedule.period_ns / 1'000'000));
  std::fflush(stdout);

  const int64_t deadline = start + args["max-seconds"].as<int64_t>() * 1'000'000'000;
  Server server(listen_fd, signal_fd, schedule, deadline, args.count("request-log") > 0);
  server.run();

  bool ok = true;
  if (args.count("stall-log")) {
    std::string text = "clock " + std::to_string(realtime) + " " + std::to_string(start) +
                       "\nstart " + std::to_string(schedule.origin_ns) + "\n";
    for (const auto& s : server.stalls())
      text += "stall " + std::to_string(s.k) + " " + std::to_string(s.start_ns) + " " +
              std::to_string(s.end_ns) + "\n";
    ok = write_file(args["stall-log"].as<std::string>(), text) && ok;
  }
  if (args.count("request-log"))
    ok = write_file(args["request-log"].as<std::string>(), server.request_log()) && ok;
  std::printf("stall_server: stopped; %zu stalls applied, at most %zu connections open\n",
              server.stalls().size(), server.max_connections());
  return ok ? 0 : 1;
}
