// ArrivalStream: the plan's request schedule, generated lazily and deterministically.
//
// Algorithm (faultline-plan/1), per phase with rate r(t) linear from a to b over length T:
//   cumulative intensity L(t) = a*t + (b - a)*t^2 / (2T)   (requests expected by time t)
//   constant arrivals: the k-th (k = 0, 1, ...) at L^-1(k)
//   poisson arrivals:  at L^-1(E1 + ... + Ek+1), Ei ~ Exp(1) from the "arrivals/<phase>" stream
// Times are rounded down to whole microseconds and offset by the phase start; arrivals at or
// after the phase end belong to no one and are not generated.
// Each arrival then draws its route (weighted, "routes" stream) and its route's variables
// (stream "var/<route>/<var>"); sequence() vars count per route. Ids:
//   request_id  = "fl-<seed>-<seq>"                       (decimal seed, seq from 0)
//   traceparent = "00-<trace id>-<span id>-01", both hex from mix64 of (seed, seq)
// Adding or removing a route's var never changes the draws of another stream.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/rng.h"
#include "plan/plan.h"

namespace faultline {

struct Arrival {
  uint64_t seq = 0;
  Duration intended{0};  // plan time
  uint32_t phase = 0;    // index into Plan::phases
  uint32_t route = 0;    // index into Plan::routes
  std::string method;
  std::string path;                                          // resolved template, e.g. "/users/42"
  std::vector<std::pair<std::string, std::string>> headers;  // resolved route headers
  std::string body;
  std::string request_id;
  std::string traceparent;
};

std::string request_id_for(uint64_t seed, uint64_t seq);
std::string traceparent_for(uint64_t seed, uint64_t seq);

class ArrivalStream {
 public:
  // Keeps a reference to `plan`, which must outlive the stream.
  explicit ArrivalStream(const Plan& plan);
  ~ArrivalStream();

  // The next arrival in intended-time order, or nullopt at the end of the plan.
  std::optional<Arrival> next();

 private:
  struct RouteState;
  bool advance_time();  // sets next_time_/phase_; false at the end

  const Plan& plan_;
  Rng route_rng_;
  std::vector<double> cumulative_weight_;
  std::vector<std::unique_ptr<RouteState>> routes_;
  size_t phase_ = 0;
  uint64_t phase_index_ = 0;  // arrivals generated in the current phase
  double poisson_sum_ = 0;
  std::optional<Rng> phase_rng_;
  Duration next_time_{0};
  uint64_t seq_ = 0;
};

}  // namespace faultline
