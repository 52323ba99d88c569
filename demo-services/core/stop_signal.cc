#include "core/stop_signal.h"

namespace faultline::demo {

void StopSignal::request_stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_.store(true, std::memory_order_release);
  }
  cv_.notify_all();
}

bool StopSignal::wait_for(Duration duration) const {
  if (duration <= Duration::zero()) return !stop_requested();
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, duration, [this] { return stop_requested(); });
}

}  // namespace faultline::demo
