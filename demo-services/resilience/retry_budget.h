// A retry budget: a token bucket that bounds extra attempts at a dependency (retries and
// hedges) to a share of the calls, so a dependency that fails every call gets at most about
// (1 + ratio) times its normal load instead of (1 + retries) times - the load that turns a
// slow dependency into a timeout cascade. (Finagle's RetryBudget, gRPC's retry throttling.)
//
//   - every call (its first attempt) deposits `ratio` tokens;
//   - time deposits `min_per_second` tokens per second, so a quiet caller can still retry;
//   - an extra attempt withdraws one token and is refused when less than one is left;
//   - the balance never exceeds `max_balance` (the burst allowed after a healthy period); it
//     starts full.
//
// Over any interval of T seconds with N calls, at most max_balance + ratio * N +
// min_per_second * T extra attempts are allowed.
//
// Time comes only from the `now` arguments (tests inject it). Thread-safety: all methods may be
// called concurrently.
#pragma once

#include <chrono>
#include <mutex>

namespace faultline::demo {

class RetryBudget {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr double kDefaultMaxBalance = 10.0;

  // REQUIRES: ratio in (0, 1], min_per_second >= 0, max_balance >= 1.
  RetryBudget(double ratio, double min_per_second, Clock::time_point start,
              double max_balance = kDefaultMaxBalance);

  // A call starts (its first attempt): deposits `ratio`.
  void record_call(Clock::time_point now);

  // An extra attempt wants to go: true (and one token spent) when the budget allows it.
  bool try_spend(Clock::time_point now);

  double balance(Clock::time_point now);

 private:
  void refill(Clock::time_point now);  // REQUIRES: mu_ held

  const double ratio_;
  const double min_per_second_;
  const double max_balance_;
  std::mutex mu_;
  double balance_;
  Clock::time_point refilled_at_;
};

}  // namespace faultline::demo
