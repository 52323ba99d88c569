// The retry budget behind the api's --retry-budget: a burst, then the share of calls plus the
// minimum rate, never more.
#include "resilience/retry_budget.h"

#include <doctest/doctest.h>

using faultline::demo::RetryBudget;
using namespace std::chrono_literals;

namespace {

const RetryBudget::Clock::time_point t0{};

int spend_all(RetryBudget& budget, RetryBudget::Clock::time_point now) {
  int n = 0;
  while (budget.try_spend(now)) ++n;
  return n;
}

}  // namespace

TEST_CASE("retry budget: starts with the burst, then allows the share of calls") {
  RetryBudget budget(0.1, 0.0, t0);
  CHECK(spend_all(budget, t0) == 10);
  for (int i = 0; i < 100; ++i) budget.record_call(t0);
  CHECK(spend_all(budget, t0) == 10);  // 10% of 100 calls
  for (int i = 0; i < 9; ++i) budget.record_call(t0);
  CHECK_FALSE(budget.try_spend(t0));  // 0.9 tokens: no retry yet
  budget.record_call(t0);
  CHECK(budget.try_spend(t0));
}

TEST_CASE("retry budget: the minimum rate refills with time, up to the burst") {
  RetryBudget budget(0.2, 2.0, t0, 5.0);
  CHECK(spend_all(budget, t0) == 5);
  CHECK(spend_all(budget, t0 + 1s) == 2);
  CHECK(spend_all(budget, t0 + 1500ms) == 1);
  CHECK(spend_all(budget, t0 + 1h) == 5);  // capped at the burst
  CHECK(budget.balance(t0 + 1h) < 1.0);
}

TEST_CASE("retry budget: a failing dependency gets at most burst + share + minimum extra") {
  // Every call fails and wants 2 retries (the timeout cascade): 40 calls/s for 10 s.
  RetryBudget budget(0.1, 1.0, t0);
  int calls = 0;
  int retries = 0;
  for (int ms = 0; ms < 10'000; ms += 25) {
    const auto now = t0 + std::chrono::milliseconds(ms);
    budget.record_call(now);
    ++calls;
    for (int r = 0; r < 2 && budget.try_spend(now); ++r) ++retries;
  }
  CHECK(calls == 400);
  CHECK(retries <= 10 + 40 + 10);
  CHECK(retries >= 40 + 10);  // what was deposited is spent
}
