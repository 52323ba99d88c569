#include "faults/levers.h"

#include <algorithm>

#include "core/event_log.h"

namespace faultline::demo {

namespace {

constexpr double kMaxLeverMs = 300'000;

double whole_ms(Duration d) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

// A range that always holds the start-up value, so that the baseline is a valid setting.
KnobSpec ms_lever(std::string name, double min, Duration start_up, std::string meaning) {
  const double def = whole_ms(start_up);
  return {std::move(name),   KnobKind::kMilliseconds, min, std::max(kMaxLeverMs, def), def,
          std::move(meaning)};
}
KnobSpec count_lever(std::string name, double max, double start_up, std::string meaning) {
  return {std::move(name),         KnobKind::kCount, 0,
          std::max(max, start_up), start_up,         std::move(meaning)};
}
KnobSpec bool_lever(std::string name, std::string meaning) {
  return {std::move(name), KnobKind::kBool, 0, 1, 0, std::move(meaning)};
}

std::string who(const Request& r) {
  std::string ua = r.header("User-Agent");
  return r.remote_addr + (ua.empty() ? "" : " (" + ua + ")");
}

}  // namespace

std::vector<KnobSpec> lever_catalog(const DemoConfig& c) {
  std::vector<KnobSpec> out;
  switch (c.role) {
    case Role::kApi:
      out.push_back(ms_lever("payment_timeout_ms", 1, c.payment_timeout,
                             "per-attempt timeout of the charge at payment (--payment-timeout); "
                             "tighter frees api threads sooner when payment is slow"));
      out.push_back(count_lever("payment_retries", 10, c.payment_retries,
                                "extra charge attempts after the first (--payment-retries); 0 "
                                "stops retry storms against a failing payment"));
      out.push_back(ms_lever("payment_hedge_after_ms", 0, c.payment_hedge_after,
                             "send a hedge charge (same Idempotency-Key) when an attempt has not "
                             "answered after this long (--payment-hedge-after); 0 = off. Cuts a "
                             "slow tail, not a slow payment"));
      out.push_back({"retry_budget_ratio", KnobKind::kFraction, 0, 1, c.retry_budget,
                     "share of charge calls that retries and hedges may add (--retry-budget); "
                     "0 = no budget"});
      out.push_back(count_lever("max_in_flight_orders", 10'000, 0,
                                "load shedding: POST /orders beyond this many in flight answer "
                                "503 overloaded (Problem+JSON, Retry-After: 1) at once; 0 = off"));
      out.push_back(bool_lever("payment_kill_switch",
                               "POST /orders answers 503 payment-disabled at once, without "
                               "charging: fail fast while payment is down, instead of holding "
                               "threads for the payment timeout"));
      break;
    case Role::kWorker:
      out.push_back(count_lever("worker_max_retries", 100, c.max_retries,
                                "attempts a failing job gets before the dead-letter list "
                                "(--max-retries); 0 dead-letters poison jobs at once"));
      out.push_back(bool_lever("worker_enforce_dedup",
                               "suppress a duplicate delivery's effect even where this build's "
                               "dedup is off (the worker_skip_dedup fault): the rollback of a "
                               "bad worker build"));
      break;
    case Role::kPayment:
      break;
  }
  return out;
}

void install_lever_endpoints(HttpServer& server, FaultState& levers, const FaultGuard& guard,
                             std::string role, ServiceMetrics& metrics) {
  auto now = [] { return FaultState::Clock::now(); };
  install_guarded_route(server, guard, "GET", "/__levers", [&levers, role, now](const Request&) {
    return json_response(200, levers.state_json(role, now()));
  });
  install_guarded_route(
      server, guard, "PUT", "/__levers", [&levers, &metrics, role, now](const Request& r) {
        const FaultState::ApplyResult result = levers.apply_json(r.body, now());
        if (!result.ok) {
          metrics.lever_changes.with({"rejected"}).Increment();
          log_event(LogLevel::kWarn, "lever_rejected",
                    {{"request_id", r.request_id},
                     {"who", who(r)},
                     {"lever", result.knob},
                     {"detail", result.message}});
          std::vector<std::pair<std::string, std::string>> extra;
          if (!result.knob.empty()) extra.emplace_back("lever", result.knob);
          return problem_response(r, 400, result.knob.empty() ? "bad-json" : "bad-lever",
                                  result.knob.empty() ? "Malformed lever request" : "Bad lever",
                                  result.message + "; nothing was applied", extra);
        }
        metrics.lever_changes.with({"set"}).Increment();
        log_event(LogLevel::kInfo, "lever_set",
                  {{"request_id", r.request_id}, {"who", who(r)}, {"applied", result.applied}});
        return json_response(200, levers.state_json(role, now()));
      });
  install_guarded_route(
      server, guard, "DELETE", "/__levers", [&levers, &metrics, role, now](const Request& r) {
        levers.reset();
        metrics.lever_changes.with({"reset"}).Increment();
        log_event(LogLevel::kInfo, "lever_reset", {{"request_id", r.request_id}, {"who", who(r)}});
        return json_response(200, levers.state_json(role, now()));
      });
}

}  // namespace faultline::demo
