// Recorded runs written by hand for the compare tests, as the runner leaves them: an artifact,
// and its bundle with plan.json, samples.csv.gz and scrapes.txt.gz. Each request's outcome
// comes from a function, so a test states the distributions it compares.
#pragma once

#include <functional>
#include <string>

#include "common/rng.h"
#include "plan/plan.h"

namespace faultline::testing {

// Two phases, warmup and trigger, 10 s each at 50 requests/s; routes users (GET, weight 7)
// and orders (POST, weight 3); observe every metric of "api" every 5 s.
Scenario compare_scenario();

struct RequestOutcome {
  int64_t latency_us = 0;
  int status = 200;
  std::string error_class;  // "" or timeout, refused, reset, other, dropped
};
inline RequestOutcome answered(int64_t latency_us, int status = 200) {
  return {latency_us, status, ""};
}
inline RequestOutcome unanswered(const std::string& error_class) {
  return {0, 0, error_class};
}

// The outcome of request `seq` of `route` in `phase`, drawing from `rng` as it likes.
using OutcomeFn =
    std::function<RequestOutcome(const std::string& phase, const std::string& route, Rng& rng)>;

// Writes a run of `plan` into `dir` (created if needed) tagged `tag`: one request every
// 1/rate s, three in ten of them orders, outcomes from `outcome` with Rng(rng_seed).
// The api's http_requests_total counter grows by `counter_step` per second. Returns the
// artifact path. `stamp` (e.g. "20261122T000000Z") names the artifact.
std::string write_recorded_run(const std::string& dir, const Plan& plan, const std::string& tag,
                               const std::string& stamp, const OutcomeFn& outcome,
                               uint64_t rng_seed, int counter_step = 50);

}  // namespace faultline::testing
