#include "resilience/retry_budget.h"

#include <algorithm>

namespace faultline::demo {

RetryBudget::RetryBudget(double ratio, double min_per_second, Clock::time_point start,
                         double max_balance)
    : ratio_(ratio),
      min_per_second_(min_per_second),
      max_balance_(std::max(1.0, max_balance)),
      balance_(max_balance_),
      refilled_at_(start) {}

void RetryBudget::refill(Clock::time_point now) {
  if (now <= refilled_at_) return;
  const double seconds = std::chrono::duration<double>(now - refilled_at_).count();
  balance_ = std::min(max_balance_, balance_ + seconds * min_per_second_);
  refilled_at_ = now;
}

void RetryBudget::record_call(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  refill(now);
  balance_ = std::min(max_balance_, balance_ + ratio_);
}

bool RetryBudget::try_spend(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  refill(now);
  // A little slack for the rounding of repeated ratio deposits (10 x 0.1 is 0.9999999999999999).
  if (balance_ < 1.0 - 1e-9) return false;
  balance_ = std::max(0.0, balance_ - 1.0);
  return true;
}

double RetryBudget::balance(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  refill(now);
  return balance_;
}

}  // namespace faultline::demo
