#include "metrics/service_metrics.h"

namespace faultline::demo {

ServiceMetrics::ServiceMetrics(MetricsRegistry& r)
    : registry(r),
      http_request_duration(r.histogram(
          "http_request_duration_seconds",
          "Time from the start of request handling to the response being written, by route "
          "template, method and status.",
          {"route", "method", "status"}, latency_buckets_seconds())),
      http_requests(r.counter("http_requests_total",
                              "HTTP requests answered, by route template, method and status.",
                              {"route", "method", "status"})),
      http_in_flight(
          r.gauge("http_requests_in_flight", "HTTP requests being handled now.").with({})),
      pool_threads(r.gauge("worker_pool_threads", "Threads in a worker pool.", {"pool"})),
      pool_busy_threads(r.gauge("worker_pool_busy_threads",
                                "Threads of a worker pool busy with a request or a job now.",
                                {"pool"})),
      pool_saturation(r.gauge("worker_pool_saturation_ratio",
                              "Busy threads divided by pool threads (0..1), sampled at scrape.",
                              {"pool"})),
      dep_call_duration(r.histogram(
          "dep_call_duration_seconds",
          "Duration of calls to dependencies (db, payment, redis) by outcome (ok, error, "
          "timeout). Each retry attempt is one call.",
          {"dependency", "outcome"}, latency_buckets_seconds())),
      dep_retries(r.counter("dep_retries_total", "Retried calls to a dependency.", {"dependency"})),
      dep_hedges(r.counter("dep_hedges_total",
                           "Hedge requests sent to a dependency (a second attempt sent while the "
                           "first is still pending).",
                           {"dependency"})),
      dep_hedge_wins(r.counter("dep_hedge_wins_total",
                               "Hedged calls to a dependency whose hedge answered first.",
                               {"dependency"})),
      dep_hedges_suppressed(r.counter("dep_hedges_suppressed_total",
                                      "Hedges to a dependency not sent because most recent calls "
                                      "were slower than the hedge delay (slow for everyone, not "
                                      "a tail).",
                                      {"dependency"})),
      dep_retry_budget_exhausted(
          r.counter("dep_retry_budget_exhausted_total",
                    "Retries and hedges to a dependency not sent because the retry budget was "
                    "spent.",
                    {"dependency"})),
      deadline_abandoned(r.counter("deadline_abandoned_total",
                                   "Requests abandoned because the caller's deadline "
                                   "(X-Deadline-Ms) passed, by stage (arrival, db, charge).",
                                   {"stage"})),
      ready(r.gauge("service_ready", "1 when /readyz answers 200, else 0.").with({})),
      dependency_up(r.gauge("dependency_up",
                            "1 when the last readiness check of a dependency succeeded.",
                            {"dependency"})),
      fault_knob_value(r.gauge("fault_knob_value",
                               "Active value of each fault knob of this role (booleans 0/1).",
                               {"knob"})),
      fault_lease_remaining(r.gauge("fault_lease_remaining_seconds",
                                    "Time left on the fault lease; 0 when there is no lease.")
                                .with({})),
      fault_changes(r.counter("fault_changes_total",
                              "Changes of the fault state by action (set, reset, lease_expired, "
                              "rejected).",
                              {"action"})),
      lever_value(r.gauge("lever_value",
                          "Active value of each runtime lever of this role (booleans 0/1); the "
                          "start-up flags are the defaults.",
                          {"lever"})),
      lever_changes(r.counter("lever_changes_total",
                              "Changes of the runtime levers by action (set, reset, rejected).",
                              {"action"})),
      requests_shed(r.counter("requests_shed_total",
                              "Requests answered 503 at once by a lever, by reason (overload: "
                              "max_in_flight_orders, kill_switch: payment_kill_switch).",
                              {"reason"})),
      build_info(r.gauge("demo_build_info", "Constant 1, labelled with role and version.",
                         {"role", "version"})) {
  // Children that exist from the start, so a rate() over them never misses its first increase.
  for (const char* action : {"set", "reset", "lease_expired", "rejected"})
    fault_changes.with({action});
  for (const char* action : {"set", "reset", "rejected"}) lever_changes.with({action});
  http_in_flight.Set(0);
}

}  // namespace faultline::demo
