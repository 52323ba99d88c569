// The api's one path to the payment service. Every policy about that call lives here: the
// per-attempt timeout, retries and their request ids, back-off - and, later, the "fix" switches
// for the seed incidents (a fallback or hedged request when payment is slow, an idempotency key
// on retried charges that payment honours, deadline propagation and a retry budget). Adding
// such a policy means adding a field to PaymentPolicy and a branch in PaymentClient::charge.
//
// Request ids: attempt 0 carries the caller's X-Request-Id unchanged; retry n (n >= 1) carries
// "<id>~<n>", so each retry is an independent draw of payment's targeted faults.
//
// Thread-safety: charge() and probe() may be called concurrently.
#pragma once

#include <string>
#include <string_view>

#include "common/units.h"
#include "service_metrics.h"
#include "stop_signal.h"

namespace faultline::demo {

struct PaymentPolicy {
  std::string base_url;                        // "http://127.0.0.1:8081"
  Duration timeout = std::chrono::seconds(2);  // per attempt
  int retries = 0;                             // extra attempts after the first
  Duration backoff{0};                         // wait before each retry
};

struct ChargeRequest {
  std::string order_id;
  std::string user_id;
  double amount = 0;
  std::string request_id;
  std::string traceparent;  // passed through when the caller sent one
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
  int attempts = 0;
  long status = 0;  // last HTTP status, 0 when none arrived
  std::string detail;
  std::string body;  // last response body
};

// "<id>" for attempt 0, "<id>~<n>" for retry n.
std::string attempt_request_id(std::string_view request_id, int attempt);

class PaymentClient {
 public:
  PaymentClient(PaymentPolicy policy, ServiceMetrics& metrics, const StopSignal& stop);

  ChargeResult charge(const ChargeRequest& request);

  // Readiness probe: "" when GET /healthz answers 200 within `timeout`, else why not.
  std::string probe(Duration timeout) const;

  const PaymentPolicy& policy() const { return policy_; }

 private:
  PaymentPolicy policy_;
  ServiceMetrics& metrics_;
  const StopSignal& stop_;
};

}  // namespace faultline::demo
