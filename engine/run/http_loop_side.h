// Side requests of the load engine's loop (private): scrapes and fault-control calls that share
// the loop thread with the traffic but run on their own uncapped multi handle, so they never
// wait behind traffic for a connection. Any thread submits; the loop thread admits submissions,
// starts each when its time comes, and calls its callback when it finishes.
//
// Thread-safety: submit() and close() from any thread; everything else on the loop thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "run/http_loop_multi.h"
#include "run/load_engine.h"

namespace faultline {

class SideRequests {
 public:
  using Clock = std::chrono::steady_clock;

  SideRequests(int epoll_fd, uint32_t tag);
  ~SideRequests();

  // Queues a request for plan time `at` (nullopt: as soon as possible). Returns false, without
  // calling `done`, once close() has run.
  bool submit(std::optional<Duration> at, HttpRequest request, SideCallback& done);
  // Stops accepting submissions (the loop is finishing).
  void close();

  EpollCurlMulti& multi() { return multi_; }
  Clock::time_point timer_deadline() const { return multi_.timer_deadline(); }

  // Loop thread: moves submissions into the schedule and starts those that are due.
  void start_due(Clock::time_point origin, Clock::time_point now);
  // Loop thread: calls the callbacks of finished requests.
  void collect(Clock::time_point origin);
  // Loop thread: fails every admitted or queued request that has not started (finish()).
  void cancel_unstarted(Clock::time_point origin, Clock::time_point now);
  // Earliest scheduled start, or time_point::max().
  Clock::time_point next_start(Clock::time_point origin) const;
  size_t running() const { return running_.size(); }
  uint64_t completed() const { return completed_; }

  // A completion with error_class "aborted" (the request never ran).
  static SideCompletion cancelled(int64_t now_us);

 private:
  struct Pending {
    std::optional<Duration> at;
    uint64_t order;  // submission order breaks ties between equal times
    HttpRequest request;
    SideCallback done;
  };
  struct Running;

  void start(Pending& pending, Clock::time_point now);

  EpollCurlMulti multi_;
  std::mutex mutex_;  // guards inbox_, closed_, next_order_
  std::vector<Pending> inbox_;
  std::atomic<bool> inbox_filled_{false};  // lets the loop skip the lock when nothing came
  bool closed_ = false;
  uint64_t next_order_ = 0;
  std::vector<Pending> scheduled_;  // min-heap by (at, order); loop thread
  std::vector<std::unique_ptr<Running>> running_;
  uint64_t completed_ = 0;
};

}  // namespace faultline
