// The process-wide stop request. Every wait a service makes on purpose (simulated latency, a
// request held by force_timeout, a worker's delay, reconnect back-off) goes through wait_for,
// so SIGTERM ends them promptly and shutdown stays graceful and bounded.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "common/units.h"

namespace faultline::demo {

class StopSignal {
 public:
  void request_stop();
  bool stop_requested() const { return stopped_.load(std::memory_order_acquire); }

  // Waits for `duration` unless a stop is requested first. Returns true when the whole
  // duration passed, false when the wait was cut short by a stop.
  bool wait_for(Duration duration) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::atomic<bool> stopped_{false};
};

}  // namespace faultline::demo
