// The payment role: POST /charge {"order_id": "...", "amount": 12.5 [, "user_id": ...]}.
// A charge is a simulated DB write, then the payment knobs, in this order:
//   payment_latency_ms_add  added to the charges selected by payment_latency_pct
//   payment_fail_rate       the selected charges are answered 502
// Selection is targeting_hit(<knob>, X-Request-Id, fraction) with the knob names
// "payment_latency_pct" and "payment_fail_rate".
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <chrono>

#include "common/targeting.h"
#include "request_json.h"
#include "service.h"
#include "simulated_db.h"

namespace faultline::demo {

namespace {

class PaymentLogic : public RoleLogic {
 public:
  explicit PaymentLogic(Service& s)
      : s_(s),
        db_(s.config().db_latency, s.faults(), s.metrics(), s.stop_signal()),
        charges_(s.metrics().registry.counter(
            "charges_total", "Charges answered by outcome (captured, failed).", {"outcome"})) {
    charges_.with({"captured"});
    charges_.with({"failed"});
    s.http().route("POST", "/charge", [this](const Request& r) { return charge(r); });
  }

 private:
  Response charge(const Request& r) {
    if (auto held = s_.hold_if_forced(r)) return *held;
    rapidjson::Document doc;
    if (auto bad = parse_json_object(r, &doc)) return *bad;
    Response problem;
    auto order_id = id_field(r, doc, "order_id", true, &problem);
    if (!order_id) return problem;
    auto user_id = id_field(r, doc, "user_id", false, &problem);
    if (!user_id) return problem;
    auto amount = amount_field(r, doc, "amount", &problem);
    if (!amount) return problem;

    const DbOutcome db = db_.call(r.request_id);
    if (db == DbOutcome::kFailed) charges_.with({"failed"}).inc();
    if (auto failed = db_failure_response(r, db)) return *failed;
    auto& faults = s_.faults();
    const auto now = Service::now();
    const double add_ms = faults.value("payment_latency_ms_add", now);
    if (add_ms > 0 && targeting_hit("payment_latency_pct", r.request_id,
                                    faults.value("payment_latency_pct", now) / 100.0)) {
      if (!s_.stop_signal().wait_for(std::chrono::milliseconds(static_cast<int64_t>(add_ms))))
        return shutting_down_response(r);
    }
    if (targeting_hit("payment_fail_rate", r.request_id,
                      faults.value("payment_fail_rate", Service::now()))) {
      charges_.with({"failed"}).inc();
      return problem_response(r, 502, "charge-failed", "Bad Gateway",
                              "the charge failed (payment_fail_rate)", {{"order_id", *order_id}});
    }
    const std::string charge_id = "ch-" + std::to_string(counter_.fetch_add(1) + 1);
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("charge_id");
    w.String(charge_id);
    w.Key("order_id");
    w.String(*order_id);
    w.Key("amount");
    w.Double(*amount);
    w.Key("status");
    w.String("captured");
    w.Key("request_id");
    w.String(r.request_id);
    w.EndObject();
    std::string body(buf.GetString(), buf.GetSize());
    db_.put(charge_id, body);
    charges_.with({"captured"}).inc();
    return json_response(200, std::move(body));
  }

  Service& s_;
  SimulatedDb db_;
  CounterFamily& charges_;
  std::atomic<uint64_t> counter_{0};
};

}  // namespace

std::unique_ptr<RoleLogic> make_payment_logic(Service& service) {
  return std::make_unique<PaymentLogic>(service);
}

}  // namespace faultline::demo
