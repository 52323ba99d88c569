#include "payment_client.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>

#include "net/http_call.h"

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

}  // namespace

std::string attempt_request_id(std::string_view request_id, int attempt) {
  if (attempt == 0) return std::string(request_id);
  return std::string(request_id) + "~" + std::to_string(attempt);
}

PaymentClient::PaymentClient(PaymentPolicy policy, ServiceMetrics& metrics, const StopSignal& stop)
    : policy_(std::move(policy)), metrics_(metrics), stop_(stop) {}

ChargeResult PaymentClient::charge(const ChargeRequest& request) {
  ChargeResult result;
  HttpRequest http;
  http.method = "POST";
  http.url = policy_.base_url + "/charge";
  http.body = charge_body(request);
  http.timeout = to_ms(policy_.timeout);
  for (int attempt = 0; attempt <= policy_.retries; ++attempt) {
    if (attempt > 0) {
      metrics_.dep_retries.with({"payment"}).inc();
      if (!stop_.wait_for(policy_.backoff)) {
        result.kind = ChargeResult::Kind::kInterrupted;
        result.detail = "shutting down";
        return result;
      }
    }
    http.headers = {"Content-Type: application/json",
                    "X-Request-Id: " + attempt_request_id(request.request_id, attempt)};
    if (!request.traceparent.empty()) http.headers.push_back("traceparent: " + request.traceparent);
    const auto start = std::chrono::steady_clock::now();
    const HttpResponse response = http_call(http);
    result.attempts = attempt + 1;
    result.status = response.status;
    result.body = response.body;
    std::string outcome = "error";
    if (!response.error.empty()) {
      if (response.error_class == "timeout") {
        outcome = "timeout";
        result.kind = ChargeResult::Kind::kTimeout;
      } else {
        result.kind = ChargeResult::Kind::kUnreachable;
      }
      result.detail = response.error;
    } else if (response.status >= 200 && response.status < 300) {
      outcome = "ok";
      result.kind = ChargeResult::Kind::kCaptured;
      result.detail.clear();
    } else if (response.status < 500) {
      result.kind = ChargeResult::Kind::kRejected;
      result.detail = "payment answered " + std::to_string(response.status);
    } else {
      result.kind = ChargeResult::Kind::kFailed;
      result.detail = "payment answered " + std::to_string(response.status);
    }
    metrics_.dep_call_duration.with({"payment", outcome})
        .observe(seconds_between(start, std::chrono::steady_clock::now()));
    if (result.kind == ChargeResult::Kind::kCaptured ||
        result.kind == ChargeResult::Kind::kRejected)
      break;
    if (stop_.stop_requested()) break;
  }
  return result;
}

std::string PaymentClient::probe(Duration timeout) const {
  HttpRequest http;
  http.url = policy_.base_url + "/healthz";
  http.timeout = to_ms(timeout);
  const HttpResponse response = http_call(http);
  if (!response.error.empty()) return response.error;
  if (response.status != 200) return "GET /healthz answered " + std::to_string(response.status);
  return "";
}

}  // namespace faultline::demo
