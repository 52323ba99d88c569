#include "resilience/payment_client.h"

#include <curl/curl.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>

#include "resilience/request_deadline.h"

namespace faultline::demo {

namespace {

std::string charge_body(const ChargeRequest& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("order_id");
  w.String(r.order_id);
  w.Key("user_id");
  w.String(r.user_id);
  w.Key("amount");
  w.Double(r.amount);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::chrono::milliseconds to_ms(Duration d) {
  return std::max(std::chrono::milliseconds(1),
                  std::chrono::duration_cast<std::chrono::milliseconds>(d));
}

// What one answer from payment means for the charge.
struct Classified {
  ChargeResult::Kind kind;
  const char* outcome;  // dep_call_duration_seconds{outcome}
  std::string detail;
};

Classified classify(const HttpResponse& response, bool deadline_sent) {
  if (!response.error.empty()) {
    if (response.error_class == "timeout")
      return {ChargeResult::Kind::kTimeout, "timeout", response.error};
    return {ChargeResult::Kind::kUnreachable, "error", response.error};
  }
  if (response.status >= 200 && response.status < 300)
    return {ChargeResult::Kind::kCaptured, "ok", ""};
  const std::string detail = "payment answered " + std::to_string(response.status);
  if (response.status < 500) return {ChargeResult::Kind::kRejected, "error", detail};
  // With a propagated deadline, payment's 504 means "your deadline passed": a timeout.
  if (deadline_sent && response.status == 504)
    return {ChargeResult::Kind::kTimeout, "timeout", detail + " (deadline exceeded)"};
  return {ChargeResult::Kind::kFailed, "error", detail};
}

// With a deadline, no attempt starts with less than this left: it could not succeed and would
// only add load (and an attempt that ran out may end a hair before the deadline).
constexpr Duration kMinAttemptTime = std::chrono::milliseconds(10);

// X-Deadline-Ms tells payment this much less than the api will wait: the time its answer needs
// to come back. So payment gives up first, and a charge never completes after the api gave up
// on it (which would leave a captured charge behind a failed order).
constexpr std::chrono::milliseconds kDeadlineHeadroom{10};

bool decisive(ChargeResult::Kind kind) {
  return kind == ChargeResult::Kind::kCaptured || kind == ChargeResult::Kind::kRejected;
}

}  // namespace

std::string attempt_request_id(std::string_view request_id, int attempt) {
  if (attempt == 0) return std::string(request_id);
  return std::string(request_id) + "~" + std::to_string(attempt);
}

std::string hedge_request_id(std::string_view attempt_id) {
  return std::string(attempt_id) + "~h1";
}

std::string charge_idempotency_key(std::string_view order_id) {
  return std::string(order_id);
}

PaymentClient::PaymentClient(PaymentPolicy policy, ServiceMetrics& metrics, const StopSignal& stop)
    : metrics_(metrics), stop_(stop), idempotency_keys_at_start_(policy.idempotency_keys) {
  // Every counter of the call exists at 0 from start-up, switched on or not: an experiment that
  // reads increase(dep_retries_total) gets 0, not "no data", when nothing was retried.
  for (CounterFamily* family :
       {&metrics_.dep_retries, &metrics_.dep_hedges, &metrics_.dep_hedge_wins,
        &metrics_.dep_hedges_suppressed, &metrics_.dep_retry_budget_exhausted})
    family->with({"payment"});
  auto c = std::make_shared<Current>();
  c->policy = std::move(policy);
  if (c->policy.hedge_after > Duration{0})
    c->policy.idempotency_keys = true;  // a hedge without a key could charge twice
  if (c->policy.retry_budget_ratio > 0)
    c->budget = std::make_shared<RetryBudget>(c->policy.retry_budget_ratio,
                                              c->policy.retry_budget_min_per_second, Clock::now());
  current_ = std::move(c);
}

std::shared_ptr<const PaymentClient::Current> PaymentClient::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

PaymentPolicy PaymentClient::policy() const {
  return current()->policy;
}

PaymentLevers PaymentClient::levers() const {
  const auto c = current();
  return {c->policy.timeout, c->policy.retries, c->policy.hedge_after,
          c->policy.retry_budget_ratio};
}

void PaymentClient::set_levers(const PaymentLevers& levers) {
  std::lock_guard<std::mutex> lock(mu_);
  const PaymentPolicy& was = current_->policy;
  if (was.timeout == levers.timeout && was.retries == levers.retries &&
      was.hedge_after == levers.hedge_after && was.retry_budget_ratio == levers.retry_budget_ratio)
    return;
  auto c = std::make_shared<Current>(*current_);
  c->policy.timeout = levers.timeout;
  c->policy.retries = levers.retries;
  c->policy.hedge_after = levers.hedge_after;
  c->policy.idempotency_keys = idempotency_keys_at_start_ || levers.hedge_after > Duration{0};
  if (levers.retry_budget_ratio != was.retry_budget_ratio) {
    c->policy.retry_budget_ratio = levers.retry_budget_ratio;
    // A new ratio starts a new budget: the old one's history was earned under another ratio.
    c->budget =
        levers.retry_budget_ratio > 0
            ? std::make_shared<RetryBudget>(levers.retry_budget_ratio,
                                            c->policy.retry_budget_min_per_second, Clock::now())
            : nullptr;
  }
  current_ = std::move(c);  // calls under way keep the snapshot they started with
}

HttpRequest PaymentClient::attempt_request(const PaymentPolicy& policy,
                                           const ChargeRequest& request,
                                           const std::string& attempt_id, Duration timeout) const {
  HttpRequest http;
  http.method = "POST";
  http.url = policy.base_url + "/charge";
  http.body = charge_body(request);
  http.timeout = to_ms(timeout);
  http.headers = {"Content-Type: application/json", "X-Request-Id: " + attempt_id};
  if (!request.traceparent.empty()) http.headers.push_back("traceparent: " + request.traceparent);
  if (policy.idempotency_keys || request.idempotency_key)
    http.headers.push_back("Idempotency-Key: " + charge_idempotency_key(request.order_id));
  if (policy.propagate_deadline)
    http.headers.push_back(
        std::string(kDeadlineHeader) + ": " +
        std::to_string(std::max<int64_t>(1, (http.timeout - kDeadlineHeadroom).count())));
  return http;
}

ChargeResult PaymentClient::charge(const ChargeRequest& request) {
  // One snapshot of the policy for the whole call: a lever pulled meanwhile acts on later calls.
  const std::shared_ptr<const Current> snapshot = current();
  const PaymentPolicy& policy = snapshot->policy;
  RetryBudget* const budget = snapshot->budget.get();
  ChargeResult result;
  const auto call_start = Clock::now();
  if (budget) budget->record_call(call_start);
  // The call's deadline: what all attempts and back-offs could take with per-attempt timeouts,
  // cut by the caller's own deadline.
  std::optional<Clock::time_point> deadline;
  if (policy.propagate_deadline) {
    deadline = call_start + policy.timeout * (policy.retries + 1) + policy.backoff * policy.retries;
    if (request.deadline) deadline = std::min(*deadline, *request.deadline);
  }
  for (int attempt = 0; attempt <= policy.retries; ++attempt) {
    if (attempt > 0) {
      if (deadline && Clock::now() + policy.backoff + kMinAttemptTime > *deadline) {
        result.detail += "; no time left for a retry before the deadline";
        break;
      }
      if (budget && !budget->try_spend(Clock::now())) {
        metrics_.dep_retry_budget_exhausted.with({"payment"}).Increment();
        result.detail += "; retry budget spent";
        break;
      }
      metrics_.dep_retries.with({"payment"}).Increment();
      if (!stop_.wait_for(policy.backoff)) {
        result.kind = ChargeResult::Kind::kInterrupted;
        result.detail = "shutting down";
        return result;
      }
    }
    Duration timeout = policy.timeout;
    const auto start = Clock::now();
    if (deadline) {
      if (start + kMinAttemptTime > *deadline) {
        result.kind = ChargeResult::Kind::kTimeout;
        result.detail = "the deadline passed before payment was called";
        break;
      }
      // One deadline instead of per-attempt timeouts: an attempt may use all the time left,
      // so a slow but working payment still answers within the call's budget. Whole
      // milliseconds (curl's and the header's unit), rounded up.
      timeout = std::chrono::ceil<std::chrono::milliseconds>(*deadline - start);
    }
    const std::string attempt_id = attempt_request_id(request.request_id, attempt);
    const HttpRequest http = attempt_request(policy, request, attempt_id, timeout);
    result.attempts = attempt + 1;
    const bool hedging = policy.hedge_after > Duration{0};
    HttpResponse response =
        hedging ? hedged_exchange(*snapshot, request, http, attempt_id, start + timeout, &result)
                : http_call(http);
    Classified c = classify(response, deadline.has_value());
    if (!hedging)  // hedged_exchange records each of its transfers itself
      metrics_.dep_call_duration.with({"payment", c.outcome})
          .Observe(seconds_between(start, Clock::now()));
    result.kind = c.kind;
    result.detail = std::move(c.detail);
    result.status = response.status;
    result.body = std::move(response.body);
    if (decisive(result.kind)) break;
    if (stop_.stop_requested()) break;
    // Under one deadline a timeout (ours, or payment's 504) means the time is spent.
    if (deadline && result.kind == ChargeResult::Kind::kTimeout) break;
  }
  return result;
}

HttpResponse PaymentClient::hedged_exchange(const Current& call, const ChargeRequest& request,
                                            const HttpRequest& primary,
                                            const std::string& attempt_id,
                                            Clock::time_point attempt_deadline,
                                            ChargeResult* result) {
  struct Transfer {
    std::unique_ptr<HttpExchange> exchange;
    Clock::time_point started;
    bool is_hedge = false;
    bool in_multi = false;
  };
  std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)> multi(curl_multi_init(),
                                                              &curl_multi_cleanup);
  std::vector<Transfer> transfers;
  transfers.reserve(2);
  auto launch = [&](HttpRequest http, bool is_hedge) {
    Transfer t;
    t.exchange = std::make_unique<HttpExchange>(std::move(http));
    t.started = Clock::now();
    t.is_hedge = is_hedge;
    curl_multi_add_handle(multi.get(), static_cast<CURL*>(t.exchange->easy_handle()));
    t.in_multi = true;
    transfers.push_back(std::move(t));
  };
  const bool deadline_sent = call.policy.propagate_deadline;
  launch(primary, false);
  const Clock::time_point hedge_at = transfers[0].started + call.policy.hedge_after;
  bool hedge_pending = true;           // the hedge is neither sent nor given up
  std::optional<HttpResponse> answer;  // the decisive one
  std::optional<HttpResponse> last_failure;
  while (!answer) {
    int running = 0;
    curl_multi_perform(multi.get(), &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      for (auto& t : transfers) {
        if (!t.in_multi || t.exchange->easy_handle() != msg->easy_handle) continue;
        const CURLcode code = msg->data.result;
        curl_multi_remove_handle(multi.get(), static_cast<CURL*>(t.exchange->easy_handle()));
        t.in_multi = false;
        HttpResponse& response = t.exchange->finish(code);
        const Classified c = classify(response, deadline_sent);
        metrics_.dep_call_duration.with({"payment", c.outcome})
            .Observe(seconds_between(t.started, Clock::now()));
        if (decisive(c.kind) && !answer) {
          if (t.is_hedge) metrics_.dep_hedge_wins.with({"payment"}).Increment();
          answer = std::move(response);
        } else if (!answer) {
          last_failure = std::move(response);
        }
        break;
      }
      if (answer) break;
    }
    if (answer) break;
    const bool all_done = std::none_of(transfers.begin(), transfers.end(),
                                       [](const Transfer& t) { return t.in_multi; });
    // A failure before the hedge delay is not slowness: the attempt failed (retries handle it).
    if (all_done) break;
    auto now = Clock::now();
    if (hedge_pending && now >= hedge_at) {
      hedge_pending = false;
      hedge_gate_.record(true);
      if (!hedge_gate_.open()) {
        metrics_.dep_hedges_suppressed.with({"payment"}).Increment();
      } else if (call.budget && !call.budget->try_spend(now)) {
        metrics_.dep_retry_budget_exhausted.with({"payment"}).Increment();
      } else if (now < attempt_deadline) {
        HttpRequest hedge =
            attempt_request(call.policy, request, hedge_request_id(attempt_id),
                            std::chrono::duration_cast<Duration>(attempt_deadline - now));
        launch(std::move(hedge), true);
        metrics_.dep_hedges.with({"payment"}).Increment();
        ++result->hedges;
        continue;
      }
    }
    int wait_ms = 100;
    if (hedge_pending) {
      const auto until = std::chrono::ceil<std::chrono::milliseconds>(hedge_at - now).count();
      wait_ms = static_cast<int>(std::clamp<int64_t>(until, 0, wait_ms));
    }
    curl_multi_poll(multi.get(), nullptr, 0, wait_ms, nullptr);
  }
  if (hedge_pending) hedge_gate_.record(false);  // answered before the hedge delay
  // The loser (if any) is cancelled: its connection closes; payment's idempotency makes sure
  // that, should it still reach the charge, it charges nothing a second time.
  for (auto& t : transfers) {
    if (!t.in_multi) continue;
    curl_multi_remove_handle(multi.get(), static_cast<CURL*>(t.exchange->easy_handle()));
    t.in_multi = false;
    metrics_.dep_call_duration.with({"payment", "cancelled"})
        .Observe(seconds_between(t.started, Clock::now()));
  }
  if (answer) return std::move(*answer);
  return std::move(*last_failure);
}

std::string PaymentClient::probe(Duration timeout) const {
  HttpRequest http;
  http.url = current()->policy.base_url + "/healthz";
  http.timeout = to_ms(timeout);
  const HttpResponse response = http_call(http);
  if (!response.error.empty()) return response.error;
  if (response.status != 200) return "GET /healthz answered " + std::to_string(response.status);
  return "";
}

}  // namespace faultline::demo
