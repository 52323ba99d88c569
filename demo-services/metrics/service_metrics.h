// The metric families every role exposes, registered once per process so that the HTTP server,
// the simulated DB, the payment client, the queue and the readiness monitor record into the
// same families. Role-specific families (jobs_*, charges_*) are registered by their role.
//
// Names and label sets are part of the fault contract (docs/fault-contract.md, "Metrics").
#pragma once

#include <chrono>

#include "metrics/metrics_registry.h"

namespace faultline::demo {

struct ServiceMetrics {
  explicit ServiceMetrics(MetricsRegistry& registry);

  MetricsRegistry& registry;
  // HTTP server: route is the template ("/users/{id}"), never the raw path.
  HistogramFamily& http_request_duration;  // {route, method, status}
  CounterFamily& http_requests;            // {route, method, status}
  Gauge& http_in_flight;
  // Saturation of a pool of threads: pool = "http" (server threads) | "jobs" (worker).
  GaugeFamily& pool_threads;       // {pool}
  GaugeFamily& pool_busy_threads;  // {pool}
  GaugeFamily& pool_saturation;    // {pool}, busy / threads, sampled at scrape time
  // Outgoing calls: dependency = db | payment | redis; outcome = ok | error | timeout.
  HistogramFamily& dep_call_duration;  // {dependency, outcome}
  CounterFamily& dep_retries;          // {dependency}
  // The fixes of the outgoing call (resilience/payment_client.h); zero while they are off.
  CounterFamily& dep_hedges;                  // {dependency}: hedge requests sent
  CounterFamily& dep_hedge_wins;              // {dependency}: calls the hedge answered first
  CounterFamily& dep_hedges_suppressed;       // {dependency}: hedges not sent, most calls were slow
  CounterFamily& dep_retry_budget_exhausted;  // {dependency}: retries/hedges the budget refused
  // Incoming work abandoned because the caller's X-Deadline-Ms passed
  // (resilience/request_deadline.h).
  CounterFamily& deadline_abandoned;  // {stage = arrival | db | charge}
  // Readiness.
  Gauge& ready;
  GaugeFamily& dependency_up;  // {dependency}
  // Fault contract.
  GaugeFamily& fault_knob_value;  // {knob}
  Gauge& fault_lease_remaining;   // seconds, 0 when no lease
  CounterFamily& fault_changes;   // {action = set | reset | lease_expired | rejected}
  // Runtime levers (faults/levers.h).
  GaugeFamily& lever_value;      // {lever}: active value (booleans 0/1)
  CounterFamily& lever_changes;  // {action = set | reset | rejected}
  CounterFamily& requests_shed;  // {reason = overload | kill_switch}: answered 503 at once
  GaugeFamily& build_info;       // {role, version} = 1
};

// Seconds as a double, for observe().
inline double seconds_between(std::chrono::steady_clock::time_point from,
                              std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace faultline::demo
