// The api's one path to the payment service. Every policy about that call lives here: the
// per-attempt timeout, retries and their request ids, back-off - and the "fix" switches for the
// seed incidents, all off by default (docs/fault-contract.md, "Fixes"):
//   idempotency_keys    "Idempotency-Key: <order_id>" on every attempt, so payment (started
//                       with --idempotency) charges an order at most once however often it is
//                       asked; makes retrying failed or timed-out charges safe (error storm)
//   hedge_after         when an attempt has not answered after this long, a hedge request
//                       "<attempt id>~h1" with the same key; the first decisive answer wins and
//                       the other transfer is cancelled (latency tail). No hedge while most
//                       recent attempts were slower than the delay (HedgeGate): then payment
//                       is slow for everyone and a hedge would only add load
//   propagate_deadline  one deadline for the whole call instead of a timeout per attempt:
//                       timeout x (retries + 1) + back-offs, or the caller's own deadline if
//                       sooner. An attempt may use all the time left (a slow payment is waited
//                       for once instead of cut off three times), sends it as X-Deadline-Ms
//                       (less 10 ms for the answer's way back) so payment stops before the api
//                       stops waiting, and no retry starts once a timeout or payment's 504 says
//                       the time is spent (timeout cascade)
//   retry_budget_ratio  retries and hedges spend a RetryBudget: they add at most this share of
//                       calls (plus a minimum rate and a burst), so a failing payment gets
//                       little extra load (timeout cascade)
// With every switch off, charge() behaves exactly as before they existed.
//
// Request ids: attempt 0 carries the caller's X-Request-Id unchanged; retry n (n >= 1) carries
// "<id>~<n>", so each retry is an independent draw of payment's targeted faults. A hedge of an
// attempt carries "<attempt id>~h1" ("<id>~h1", "<id>~1~h1"), an independent draw too.
//
// Thread-safety: charge() and probe() may be called concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/units.h"
#include "core/stop_signal.h"
#include "metrics/service_metrics.h"
#include "net/http_call.h"
#include "resilience/hedge_gate.h"
#include "resilience/retry_budget.h"

namespace faultline::demo {

struct PaymentPolicy {
  std::string base_url;                        // "http://127.0.0.1:8081"
  Duration timeout = std::chrono::seconds(2);  // per attempt
  int retries = 0;                             // extra attempts after the first
  Duration backoff{0};                         // wait before each retry
  // Fixes (see above); the defaults are "off".
  bool idempotency_keys = false;
  Duration hedge_after{0};  // 0: no hedging; > 0 also sends idempotency keys
  bool propagate_deadline = false;
  double retry_budget_ratio = 0;  // 0: no budget
  double retry_budget_min_per_second = 1.0;
};

// The part of the policy an operator may change while the api runs (the levers of
// faults/levers.h: payment_timeout_ms, payment_retries, payment_hedge_after_ms,
// retry_budget_ratio).
struct PaymentLevers {
  Duration timeout = std::chrono::seconds(2);
  int retries = 0;
  Duration hedge_after{0};
  double retry_budget_ratio = 0;
};

struct ChargeRequest {
  std::string order_id;
  std::string user_id;
  double amount = 0;
  std::string request_id;
  std::string traceparent;  // passed through when the caller sent one
  // The caller's own deadline (its X-Deadline-Ms); only used with propagate_deadline.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Send "Idempotency-Key: <order id>" even when the policy does not (the order is retried by
  // its client under a client_order_id, so an earlier attempt may have been captured).
  bool idempotency_key = false;
};

struct ChargeResult {
  enum class Kind {
    kCaptured,     // 2xx
    kRejected,     // 4xx: payment refused the request itself; not retried
    kFailed,       // 5xx after the last attempt
    kTimeout,      // the last attempt timed out
    kUnreachable,  // the last attempt could not connect / was reset
    kInterrupted,  // shutdown during a back-off
  };
  Kind kind = Kind::kFailed;
  int attempts = 0;  // attempts started (a hedge is part of its attempt)
  int hedges = 0;    // hedge requests sent
  long status = 0;   // last HTTP status, 0 when none arrived
  std::string detail;
  std::string body;  // last response body
};

// "<id>" for attempt 0, "<id>~<n>" for retry n.
std::string attempt_request_id(std::string_view request_id, int attempt);

// "<attempt id>~h1": the X-Request-Id of the hedge of an attempt.
std::string hedge_request_id(std::string_view attempt_id);

// The Idempotency-Key of an order's charge: the order id itself.
std::string charge_idempotency_key(std::string_view order_id);

class PaymentClient {
 public:
  PaymentClient(PaymentPolicy policy, ServiceMetrics& metrics, const StopSignal& stop);

  ChargeResult charge(const ChargeRequest& request);

  // Readiness probe: "" when GET /healthz answers 200 within `timeout`, else why not.
  std::string probe(Duration timeout) const;

  // The policy now (a copy: levers may change it at any time).
  PaymentPolicy policy() const;
  PaymentLevers levers() const;

  // Changes the levers' part of the policy. Calls under way finish under the policy they
  // started with; later calls use the new one. Hedging turns idempotency keys on (as at
  // start-up); a changed retry budget ratio starts a fresh budget. Cheap when nothing changes,
  // so the api may call it for every order.
  void set_levers(const PaymentLevers& levers);

 private:
  using Clock = std::chrono::steady_clock;
  // The policy and its retry budget, replaced as a whole when a lever changes, so a call sees
  // one consistent pair.
  struct Current {
    PaymentPolicy policy;
    std::shared_ptr<RetryBudget> budget;  // null without a retry budget
  };
  std::shared_ptr<const Current> current() const;
  // One attempt's HTTP request (id, headers, body, timeout).
  HttpRequest attempt_request(const PaymentPolicy& policy, const ChargeRequest& request,
                              const std::string& attempt_id, Duration timeout) const;
  // Sends `primary`, and its hedge if it has not answered after hedge_after; returns the first
  // decisive answer (2xx, 4xx), else the one that failed last. Every finished transfer is
  // recorded in dep_call_duration_seconds; a cancelled one as outcome "cancelled".
  HttpResponse hedged_exchange(const Current& call, const ChargeRequest& request,
                               const HttpRequest& primary, const std::string& attempt_id,
                               Clock::time_point attempt_deadline, ChargeResult* result);

  ServiceMetrics& metrics_;
  const StopSignal& stop_;
  const bool idempotency_keys_at_start_;  // --idempotency, kept when hedging is turned off
  mutable std::mutex mu_;                 // guards current_ (the pointer, not the pointee)
  std::shared_ptr<const Current> current_;
  HedgeGate hedge_gate_;  // used only with hedging
};

}  // namespace faultline::demo
