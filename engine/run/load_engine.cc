#include "run/load_engine.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

#include "common/error.h"
#include "run/http_loop_multi.h"
#include "run/http_loop_side.h"
#include "run/load_transfer.h"

namespace faultline {

namespace {

using Clock = std::chrono::steady_clock;

// Tags in the upper half of epoll_event.data.u64 (see EpollCurlMulti).
constexpr uint32_t kWakeTag = 0;
constexpr uint32_t kTrafficTag = 1;
constexpr uint32_t kSideTag = 2;

constexpr std::string_view kDropped = "dropped";
constexpr std::string_view kAborted = "aborted";

int64_t micros(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// A counter written by the loop thread only and read by anyone.
struct Counter {
  std::atomic<uint64_t> value{0};
  void bump() { value.store(value.load(std::memory_order_relaxed) + 1, std::memory_order_release); }
  uint64_t get() const { return value.load(std::memory_order_acquire); }
};

// Owns a file descriptor; declared before the multis so it is closed after them.
struct OwnedFd {
  int fd;
  explicit OwnedFd(int f, const char* what) : fd(f) {
    if (fd < 0) throw EnvironmentError(std::string(what) + ": " + std::strerror(errno));
  }
  ~OwnedFd() { ::close(fd); }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
};

}  // namespace

class LoadEngine::Loop {
 public:
  explicit Loop(LoadEngineOptions options);
  ~Loop();

  void start(SteadyTime origin, RequestSource& source, SampleSink& sink);
  void submit(std::optional<Duration> at, HttpRequest request, SideCallback done);
  void request_stop(StopMode mode) noexcept;
  bool wait_traffic_done(std::chrono::milliseconds timeout);
  bool traffic_done() const { return traffic_done_.load(std::memory_order_acquire); }
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  LoadCounters counters() const;
  LoadRunResult finish();

 private:
  void run() noexcept;
  void run_until_finished();
  void dispatch_due(Clock::time_point now);
  void drop(Clock::time_point now);
  void collect_finished();
  void complete(LoadTransfer& t, std::string_view error_class, Clock::time_point finished);
  void notice_stop(Clock::time_point now);
  void abort_in_flight(Clock::time_point now);
  bool traffic_finished() const { return (!have_next_ || stopping_) && in_flight_ == 0; }
  void mark_traffic_done();
  Clock::time_point next_wakeup() const;
  void wait_for_events(Clock::time_point deadline);
  LoadTransfer* acquire();
  void wake() noexcept;

  const LoadEngineOptions options_;
  OwnedFd epoll_;
  OwnedFd wake_;  // eventfd: submissions, stop and finish wake the loop
  EpollCurlMulti traffic_;
  SideRequests side_;

  // Loop thread only.
  SteadyTime origin_;
  RequestSource* source_ = nullptr;
  SampleSink* sink_ = nullptr;
  PlannedRequest next_;  // the one arrival read ahead
  bool have_next_ = false;
  std::vector<std::unique_ptr<LoadTransfer>> transfers_;  // grows up to max_in_flight
  std::vector<LoadTransfer*> idle_;                       // LIFO: warm handles first
  std::vector<bool> busy_;                                // by transfer index
  uint64_t in_flight_ = 0;
  bool stopping_ = false;
  Clock::time_point drain_deadline_ = Clock::time_point::max();
  bool epoll_pwait2_works_ = true;
  Clock::time_point pass_started_;  // when the current pass of the loop began
  LoadRunResult result_;

  // Shared.
  Counter arrivals_, sent_, dropped_, completed_, errors_, side_completed_, side_in_flight_;
  std::atomic<int> stop_mode_{-1};  // -1 none, else a StopMode
  std::atomic<bool> finishing_{false};
  std::atomic<bool> traffic_done_{false};
  std::mutex done_mutex_;
  std::condition_variable done_cv_;
  std::exception_ptr error_;  // written by the loop thread before it ends
  std::atomic<bool> failed_{false};
  std::thread thread_;
  bool started_ = false, joined_ = false;
};

LoadEngine::Loop::Loop(LoadEngineOptions options)
    : options_(std::move(options)),
      epoll_(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1"),
      wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd"),
      traffic_(epoll_.fd, kTrafficTag),
      side_(epoll_.fd, kSideTag) {
  if (options_.max_in_flight == 0) throw UsageError("max_in_flight must be at least 1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<uint64_t>(kWakeTag) << 32;
  if (::epoll_ctl(epoll_.fd, EPOLL_CTL_ADD, wake_.fd, &ev) != 0)
    throw EnvironmentError(std::string("epoll_ctl: ") + std::strerror(errno));
  const long connections =
      options_.max_connections == 0 ? options_.max_in_flight : options_.max_connections;
  curl_multi_setopt(traffic_.multi(), CURLMOPT_MAX_HOST_CONNECTIONS, connections);
  curl_multi_setopt(traffic_.multi(), CURLMOPT_MAX_TOTAL_CONNECTIONS, connections);
  curl_multi_setopt(traffic_.multi(), CURLMOPT_MAXCONNECTS, connections);  // keep them all open
}

LoadEngine::Loop::~Loop() {
  try {
    finish();
  } catch (...) {
  }
  // Transfers are idle (removed from the multi) unless the loop never ran: detach them first.
  for (auto& t : transfers_) curl_multi_remove_handle(traffic_.multi(), t->easy());
}

void LoadEngine::Loop::start(SteadyTime origin, RequestSource& source, SampleSink& sink) {
  if (started_) throw std::logic_error("LoadEngine::start called twice");
  started_ = true;
  origin_ = origin;
  source_ = &source;
  sink_ = &sink;
  thread_ = std::thread([this] { run(); });
}

void LoadEngine::Loop::wake() noexcept {
  const int saved = errno;  // request_stop may run in a signal handler
  const uint64_t one = 1;
  (void)!::write(wake_.fd, &one, sizeof one);
  errno = saved;
}

void LoadEngine::Loop::submit(std::optional<Duration> at, HttpRequest request, SideCallback done) {
  if (side_.submit(at, std::move(request), done)) {
    wake();
    return;
  }
  done(SideRequests::cancelled(micros(Clock::now() - origin_)));
}

void LoadEngine::Loop::request_stop(StopMode mode) noexcept {
  int current = stop_mode_.load();
  const int wanted = static_cast<int>(mode);
  while (current < wanted && !stop_mode_.compare_exchange_weak(current, wanted)) {
  }
  wake();
}

bool LoadEngine::Loop::wait_traffic_done(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(done_mutex_);
  return done_cv_.wait_for(lock, timeout, [&] { return traffic_done(); });
}

LoadCounters LoadEngine::Loop::counters() const {
  LoadCounters c;
  c.completed = completed_.get();  // before sent_: in_flight never goes negative
  c.errors = errors_.get();
  c.sent = sent_.get();
  c.dropped = dropped_.get();
  c.arrivals = arrivals_.get();
  c.in_flight = c.sent - c.completed;
  c.side_completed = side_completed_.get();
  c.side_in_flight = side_in_flight_.get();
  return c;
}

LoadRunResult LoadEngine::Loop::finish() {
  if (started_ && std::this_thread::get_id() == thread_.get_id())
    throw std::logic_error("LoadEngine::finish called on the loop thread (from a callback)");
  if (!joined_) {
    joined_ = true;
    if (started_) {
      request_stop(StopMode::kDrain);  // no effect once the traffic is done
      finishing_.store(true);
      wake();
      thread_.join();
    } else {
      side_.close();
      side_.cancel_unstarted(Clock::now(), Clock::now());
    }
    result_.counters = counters();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }
  return result_;
}

void LoadEngine::Loop::run() noexcept {
  ::prctl(PR_SET_TIMERSLACK, 1UL);  // wake at the deadline, not up to 50us after it
  try {
    run_until_finished();
  } catch (...) {
    error_ = std::current_exception();
    failed_.store(true, std::memory_order_release);
    // End at once: no further samples or callbacks (the caller's code just failed).
    for (auto& t : transfers_) curl_multi_remove_handle(traffic_.multi(), t->easy());
    side_.close();
  }
  mark_traffic_done();
}

// The hot loop: send what is due, let curl run, report what finished, sleep until the next
// deadline (an arrival, a curl timer, a side request or the end of a stop's drain).
void LoadEngine::Loop::run_until_finished() {
  have_next_ = source_->next(next_);
  while (true) {
    const Clock::time_point now = Clock::now();
    pass_started_ = now;
    notice_stop(now);
    dispatch_due(now);
    side_.start_due(origin_, now);
    // Handles just added set curl's timer to "now": run it in this pass, not after a wakeup.
    const Clock::time_point after_dispatch = Clock::now();
    traffic_.run_timer_if_due(after_dispatch);
    side_.multi().run_timer_if_due(after_dispatch);
    collect_finished();
    if (traffic_finished()) {
      mark_traffic_done();
      if (finishing_.load()) {
        side_.close();
        side_.cancel_unstarted(origin_, now);
        if (side_.running() == 0) return;
      }
    }
    side_in_flight_.value.store(side_.running(), std::memory_order_release);
    side_completed_.value.store(side_.completed(), std::memory_order_release);
    wait_for_events(next_wakeup());
    collect_finished();  // completion times are taken right after curl read the responses
  }
}

void LoadEngine::Loop::dispatch_due(Clock::time_point now) {
  while (have_next_ && !stopping_ && origin_ + next_.intended <= now) {
    arrivals_.bump();
    if (LoadTransfer* t = acquire()) {
      t->prepare(next_, now);  // swaps: next_ now holds storage for the source to reuse
      busy_[t->index()] = true;
      ++in_flight_;
      curl_multi_add_handle(traffic_.multi(), t->easy());  // curl starts it at the timer run
      sent_.bump();
    } else {
      drop(now);
    }
    have_next_ = source_->next(next_);
  }
}

LoadTransfer* LoadEngine::Loop::acquire() {
  if (!idle_.empty()) {
    LoadTransfer* t = idle_.back();
    idle_.pop_back();
    return t;
  }
  if (transfers_.size() >= options_.max_in_flight) return nullptr;
  transfers_.push_back(
      std::make_unique<LoadTransfer>(options_, static_cast<uint32_t>(transfers_.size())));
  traffic_.adopt(transfers_.back()->easy());
  busy_.push_back(false);
  return transfers_.back().get();
}

void LoadEngine::Loop::drop(Clock::time_point now) {
  RequestSample s;
  s.seq = next_.seq;
  s.request_id = next_.request_id;
  s.route = next_.route;
  s.phase = next_.phase;
  s.url = next_.url;
  s.intended_us = next_.intended.count();
  s.sent_us = micros(now - origin_);
  s.latency_us = s.sent_us - s.intended_us;
  s.error_class = kDropped;
  dropped_.bump();
  sink_->on_sample(s);
}

void LoadEngine::Loop::collect_finished() {
  side_.collect(origin_);
  traffic_.for_each_done([&](CURL* easy, CURLcode result) {
    const Clock::time_point finished = Clock::now();
    char* self = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &self);
    curl_multi_remove_handle(traffic_.multi(), easy);
    complete(*reinterpret_cast<LoadTransfer*>(self), curl_error_class(result), finished);
  });
}

// REQUIRES: the transfer's handle is already removed from the multi.
void LoadEngine::Loop::complete(LoadTransfer& t, std::string_view error_class,
                                Clock::time_point finished) {
  RequestSample s;
  t.fill_sample(s, error_class, origin_, finished);
  busy_[t.index()] = false;
  --in_flight_;
  idle_.push_back(&t);
  if (!error_class.empty()) errors_.bump();
  completed_.bump();
  sink_->on_sample(s);
}

void LoadEngine::Loop::notice_stop(Clock::time_point now) {
  const int mode = stop_mode_.load(std::memory_order_acquire);
  if (mode < 0 || traffic_done()) return;
  if (!stopping_) {
    stopping_ = true;
    result_.stopped_early = have_next_;
    drain_deadline_ = now + options_.stop_drain;
  }
  if (mode == static_cast<int>(StopMode::kAbort)) drain_deadline_ = std::min(drain_deadline_, now);
  if (now >= drain_deadline_) abort_in_flight(now);
}

void LoadEngine::Loop::abort_in_flight(Clock::time_point now) {
  for (auto& t : transfers_) {
    if (!busy_[t->index()]) continue;
    curl_multi_remove_handle(traffic_.multi(), t->easy());
    ++result_.aborted;
    complete(*t, kAborted, now);
  }
}

void LoadEngine::Loop::mark_traffic_done() {
  if (traffic_done()) return;
  {
    std::lock_guard<std::mutex> lock(done_mutex_);
    traffic_done_.store(true, std::memory_order_release);
  }
  done_cv_.notify_all();
}

Clock::time_point LoadEngine::Loop::next_wakeup() const {
  Clock::time_point t =
      std::min({traffic_.timer_deadline(), side_.timer_deadline(), side_.next_start(origin_)});
  if (have_next_ && !stopping_) {
    // Arrivals alone wake the loop at most once per arrival_batch (see LoadEngineOptions).
    t = std::min(t, std::max(origin_ + next_.intended, pass_started_ + options_.arrival_batch));
  }
  if (stopping_ && in_flight_ > 0) t = std::min(t, drain_deadline_);
  return t;
}

void LoadEngine::Loop::wait_for_events(Clock::time_point deadline) {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  // Without any deadline the loop still wakes once a second; the eventfd wakes it sooner.
  const auto now = Clock::now();
  const auto wait = deadline <= now
                        ? Clock::duration::zero()
                        : std::min<Clock::duration>(deadline - now, std::chrono::seconds(1));
  const auto wait_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
  int n = -1;
  if (epoll_pwait2_works_) {
    const timespec ts{static_cast<time_t>(wait_ns / 1000000000),
                      static_cast<long>(wait_ns % 1000000000)};
    n = ::epoll_pwait2(epoll_.fd, events, kMaxEvents, &ts, nullptr);
    if (n < 0 && errno == ENOSYS) epoll_pwait2_works_ = false;  // kernels before 5.11
  }
  if (!epoll_pwait2_works_)
    n = ::epoll_wait(epoll_.fd, events, kMaxEvents, static_cast<int>((wait_ns + 999999) / 1000000));
  for (int i = 0; i < n; ++i) {
    const uint32_t tag = static_cast<uint32_t>(events[i].data.u64 >> 32);
    const int fd = static_cast<int>(events[i].data.u64 & 0xffffffffu);
    if (tag == kTrafficTag) {
      traffic_.on_socket_ready(fd, events[i].events);
    } else if (tag == kSideTag) {
      side_.multi().on_socket_ready(fd, events[i].events);
    } else {
      uint64_t count = 0;
      (void)!::read(wake_.fd, &count, sizeof count);
    }
  }
}

// Serializes the loops' calls to the caller's sink (more than one loop).
class LoadEngine::SerializedSink : public SampleSink {
 public:
  explicit SerializedSink(SampleSink& inner) : inner_(inner) {}
  void on_sample(const RequestSample& sample) override {
    std::lock_guard<std::mutex> lock(mutex_);
    inner_.on_sample(sample);
  }

 private:
  SampleSink& inner_;
  std::mutex mutex_;
};

namespace {

// Loop k's share of `total` among `loops`, at least 1.
uint32_t share(uint32_t total, uint32_t loops, uint32_t k) {
  const uint32_t base = total / loops + (k < total % loops ? 1 : 0);
  return std::max<uint32_t>(base, 1);
}

}  // namespace

LoadEngine::LoadEngine(LoadEngineOptions options) {
  if (options.threads == 0) throw UsageError("threads must be at least 1");
  for (uint32_t k = 0; k < options.threads; ++k) {
    LoadEngineOptions mine = options;
    mine.max_in_flight = share(options.max_in_flight, options.threads, k);
    if (options.max_connections != 0)
      mine.max_connections = share(options.max_connections, options.threads, k);
    loops_.push_back(std::make_unique<Loop>(std::move(mine)));
  }
}
LoadEngine::~LoadEngine() {
  // Finish every loop before any is destroyed: a loop still sending holds the shared sink.
  for (auto& loop : loops_) {
    try {
      loop->finish();
    } catch (...) {
    }
  }
}

void LoadEngine::start(SteadyTime origin, const std::vector<RequestSource*>& sources,
                       SampleSink& sink) {
  if (sources.size() != loops_.size())
    throw std::logic_error("LoadEngine::start: one source per loop thread is required");
  SampleSink* shared = &sink;
  if (loops_.size() > 1) {
    serialized_sink_ = std::make_unique<SerializedSink>(sink);
    shared = serialized_sink_.get();
  }
  for (size_t k = 0; k < loops_.size(); ++k) loops_[k]->start(origin, *sources[k], *shared);
}
void LoadEngine::start(SteadyTime origin, RequestSource& source, SampleSink& sink) {
  start(origin, std::vector<RequestSource*>{&source}, sink);
}
void LoadEngine::submit(HttpRequest request, SideCallback done) {
  loops_[0]->submit(std::nullopt, std::move(request), std::move(done));
}
void LoadEngine::submit_at(Duration at, HttpRequest request, SideCallback done) {
  loops_[0]->submit(at, std::move(request), std::move(done));
}
void LoadEngine::request_stop(StopMode mode) noexcept {
  for (auto& loop : loops_) loop->request_stop(mode);
}
bool LoadEngine::wait_traffic_done(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto& loop : loops_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!loop->wait_traffic_done(std::max(left, std::chrono::milliseconds(0)))) return false;
  }
  return true;
}
bool LoadEngine::failed() const {
  for (const auto& loop : loops_)
    if (loop->failed()) return true;
  return false;
}
bool LoadEngine::traffic_done() const {
  for (const auto& loop : loops_)
    if (!loop->traffic_done()) return false;
  return true;
}

namespace {

void add(LoadCounters& sum, const LoadCounters& c) {
  sum.arrivals += c.arrivals;
  sum.sent += c.sent;
  sum.dropped += c.dropped;
  sum.completed += c.completed;
  sum.errors += c.errors;
  sum.in_flight += c.in_flight;
  sum.side_completed += c.side_completed;
  sum.side_in_flight += c.side_in_flight;
}

}  // namespace

LoadCounters LoadEngine::counters() const {
  LoadCounters sum;
  for (const auto& loop : loops_) add(sum, loop->counters());
  return sum;
}

// Finishes every loop, then rethrows the first loop's error, if any.
LoadRunResult LoadEngine::finish() {
  LoadRunResult total;
  std::exception_ptr error;
  for (auto& loop : loops_) {
    try {
      const LoadRunResult r = loop->finish();
      add(total.counters, r.counters);
      total.stopped_early = total.stopped_early || r.stopped_early;
      total.aborted += r.aborted;
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  return total;
}

}  // namespace faultline
