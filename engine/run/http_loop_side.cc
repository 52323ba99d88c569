#include "run/http_loop_side.h"

#include <algorithm>

namespace faultline {

namespace {

int64_t since(std::chrono::steady_clock::time_point origin,
              std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t - origin).count();
}

}  // namespace

struct SideRequests::Running {
  explicit Running(HttpRequest request) : exchange(std::move(request)) {}
  HttpExchange exchange;
  SideCallback done;
  Clock::time_point started;
};

SideRequests::SideRequests(int epoll_fd, uint32_t tag) : multi_(epoll_fd, tag) {}

SideRequests::~SideRequests() {
  for (auto& r : running_)
    curl_multi_remove_handle(multi_.multi(), static_cast<CURL*>(r->exchange.easy_handle()));
}

SideCompletion SideRequests::cancelled(int64_t now_us) {
  SideCompletion c;
  c.response.error = "cancelled: the load engine finished before this request ran";
  c.response.error_class = "aborted";
  c.started_us = c.completed_us = now_us;
  return c;
}

bool SideRequests::submit(std::optional<Duration> at, HttpRequest request, SideCallback& done) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return false;
  inbox_.push_back(Pending{at, next_order_++, std::move(request), std::move(done)});
  inbox_filled_.store(true, std::memory_order_release);
  return true;
}

void SideRequests::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
}

namespace {

// Heap order: the earliest (at, order) on top; "as soon as possible" sorts first.
struct LaterFirst {
  template <class P>
  bool operator()(const P& a, const P& b) const {
    const auto ta = a.at.value_or(Duration::min()), tb = b.at.value_or(Duration::min());
    return ta != tb ? ta > tb : a.order > b.order;
  }
};

}  // namespace

void SideRequests::start_due(Clock::time_point origin, Clock::time_point now) {
  if (inbox_filled_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(mutex_);
    inbox_filled_.store(false, std::memory_order_relaxed);
    for (auto& p : inbox_) {
      scheduled_.push_back(std::move(p));
      std::push_heap(scheduled_.begin(), scheduled_.end(), LaterFirst{});
    }
    inbox_.clear();
  }
  while (!scheduled_.empty()) {
    const auto& top = scheduled_.front();
    if (top.at && origin + *top.at > now) break;
    std::pop_heap(scheduled_.begin(), scheduled_.end(), LaterFirst{});
    Pending p = std::move(scheduled_.back());
    scheduled_.pop_back();
    start(p, now);
  }
}

void SideRequests::start(Pending& pending, Clock::time_point now) {
  auto r = std::make_unique<Running>(std::move(pending.request));
  r->done = std::move(pending.done);
  r->started = now;
  CURL* easy = static_cast<CURL*>(r->exchange.easy_handle());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, r.get());
  multi_.adopt(easy);
  curl_multi_add_handle(multi_.multi(), easy);
  running_.push_back(std::move(r));
}

void SideRequests::collect(Clock::time_point origin) {
  multi_.for_each_done([&](CURL* easy, CURLcode result) {
    const auto finished = Clock::now();
    curl_multi_remove_handle(multi_.multi(), easy);
    auto it = std::find_if(running_.begin(), running_.end(),
                           [&](const auto& r) { return r->exchange.easy_handle() == easy; });
    std::unique_ptr<Running> r = std::move(*it);
    running_.erase(it);
    ++completed_;
    SideCompletion c;
    c.response = std::move(r->exchange.finish(result));
    c.started_us = since(origin, r->started);
    c.completed_us = since(origin, finished);
    r->done(std::move(c));
  });
}

void SideRequests::cancel_unstarted(Clock::time_point origin, Clock::time_point now) {
  std::vector<Pending> unstarted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    unstarted = std::move(inbox_);
    inbox_.clear();
  }
  for (auto& p : scheduled_) unstarted.push_back(std::move(p));
  scheduled_.clear();
  for (auto& p : unstarted) p.done(cancelled(since(origin, now)));
}

SideRequests::Clock::time_point SideRequests::next_start(Clock::time_point origin) const {
  if (scheduled_.empty()) return Clock::time_point::max();
  const auto& top = scheduled_.front();
  return top.at ? origin + *top.at : Clock::time_point::min();
}

}  // namespace faultline
