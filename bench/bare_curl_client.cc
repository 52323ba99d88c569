// The floor of libcurl for bench/loadgen-vs-wrk: a bare curl multi client with no plan, no
// samples and no faultline code. It sends GETs to one URL open loop at a constant rate (or, with
// --rate 0, closed loop: every connection sends again as soon as its answer is in), over
// curl_multi_socket_action and its own epoll, with a fixed pool of easy handles whose options are
// set once. It prints requests, drops and its CPU time, so the bench can tell what faultline
// adds on top of the library it is built on. Not a test, and not a load tool: it prints figures.
#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Client {
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  CURLM* multi = curl_multi_init();
  Clock::time_point timer = Clock::time_point::max();
  std::vector<CURL*> idle;
  unsigned long long ok = 0, errors = 0, dropped = 0;
};

int on_socket(CURL*, curl_socket_t fd, int what, void* self, void*) {
  auto* c = static_cast<Client*>(self);
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    return 0;
  }
  epoll_event ev{};
  ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  ev.data.fd = fd;
  if (epoll_ctl(c->epoll_fd, EPOLL_CTL_MOD, fd, &ev) != 0)
    epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  return 0;
}

int on_timer(CURLM*, long ms, void* self) {
  static_cast<Client*>(self)->timer =
      ms < 0 ? Clock::time_point::max() : Clock::now() + std::chrono::milliseconds(ms);
  return 0;
}

size_t discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

void action(Client& c, curl_socket_t fd, int flags) {
  int running = 0;
  curl_multi_socket_action(c.multi, fd, flags, &running);
}

// Moves finished handles back to the pool; in closed loop, sends again at once.
void collect(Client& c, bool closed_loop) {
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(c.multi, &left)) {
    if (m->msg != CURLMSG_DONE) continue;
    CURL* easy = m->easy_handle;
    (m->data.result == CURLE_OK ? c.ok : c.errors)++;
    curl_multi_remove_handle(c.multi, easy);
    if (closed_loop)
      curl_multi_add_handle(c.multi, easy);
    else
      c.idle.push_back(easy);
  }
}

double cpu_seconds() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr,
                 "usage: bare_curl_client URL RATE_PER_S SECONDS CONNECTIONS\n"
                 "  RATE_PER_S 0 runs closed loop (each connection sends again at once)\n");
    return 2;
  }
  const std::string url = argv[1];
  const double rate = std::atof(argv[2]);
  const double seconds = std::atof(argv[3]);
  const long connections = std::atol(argv[4]);
  if (rate < 0 || seconds <= 0 || connections <= 0) {
    std::fprintf(stderr, "bare_curl_client: RATE >= 0, SECONDS > 0 and CONNECTIONS > 0\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  Client c;
  curl_multi_setopt(c.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(c.multi, CURLMOPT_SOCKETDATA, &c);
  curl_multi_setopt(c.multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(c.multi, CURLMOPT_TIMERDATA, &c);
  curl_multi_setopt(c.multi, CURLMOPT_MAX_HOST_CONNECTIONS, connections);
  curl_multi_setopt(c.multi, CURLMOPT_MAXCONNECTS, connections);
  for (long i = 0; i < connections; ++i) {
    CURL* e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 16384L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    c.idle.push_back(e);
  }
  const bool closed_loop = rate == 0;
  const auto start = Clock::now() + std::chrono::milliseconds(20);
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  const double gap_ns = closed_loop ? 0 : 1e9 / rate;
  unsigned long long next = 0;  // next arrival's number
  const double cpu_before = cpu_seconds();
  if (closed_loop) {
    for (CURL* e : c.idle) curl_multi_add_handle(c.multi, e);
    c.idle.clear();
  }
  epoll_event events[256];
  while (true) {
    auto now = Clock::now();
    const auto due = [&] {
      return start + std::chrono::nanoseconds(static_cast<long long>(gap_ns * double(next)));
    };
    if (!closed_loop) {
      for (; due() <= now && due() < end; ++next) {
        if (c.idle.empty()) {
          ++c.dropped;
          continue;
        }
        curl_multi_add_handle(c.multi, c.idle.back());
        c.idle.pop_back();
      }
    }
    if (c.timer <= Clock::now()) {
      c.timer = Clock::time_point::max();
      action(c, CURL_SOCKET_TIMEOUT, 0);
    }
    collect(c, closed_loop && now < end);
    const bool sending = closed_loop ? now < end : due() < end;
    if (!sending && c.idle.size() == static_cast<size_t>(connections)) break;
    auto wake = std::min(c.timer, sending && !closed_loop ? due() : end + std::chrono::seconds(5));
    now = Clock::now();
    const long wait_us =
        wake <= now ? 0 : std::chrono::duration_cast<std::chrono::microseconds>(wake - now).count();
    const timespec ts{wait_us / 1000000, (wait_us % 1000000) * 1000};
    const int n = epoll_pwait2(c.epoll_fd, events, 256, &ts, nullptr);
    for (int i = 0; i < n; ++i) {
      int flags = 0;
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_IN;
      if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
      action(c, events[i].data.fd, flags);
    }
    collect(c, closed_loop && Clock::now() < end);
  }
  const double cpu = cpu_seconds() - cpu_before;
  const unsigned long long done = c.ok + c.errors;
  std::printf("ok=%llu errors=%llu dropped=%llu cpu_s=%.3f cpu_us_per_request=%.2f\n", c.ok,
              c.errors, c.dropped, cpu, done ? cpu * 1e6 / double(done) : 0.0);
  return c.errors == 0 ? 0 : 1;
}
