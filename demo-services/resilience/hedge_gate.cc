#include "resilience/hedge_gate.h"

namespace faultline::demo {

void HedgeGate::record(bool slow) {
  std::lock_guard<std::mutex> lock(mu_);
  if (slow_[next_]) --slow_count_;
  slow_[next_] = slow;
  if (slow) ++slow_count_;
  next_ = (next_ + 1) % kWindow;
}

bool HedgeGate::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return 2 * slow_count_ <= kWindow;
}

int HedgeGate::slow_in_window() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slow_count_;
}

}  // namespace faultline::demo
