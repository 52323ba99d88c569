// The payment role: POST /charge {"order_id": "...", "amount": 12.5 [, "user_id": ...]}.
// A charge is a simulated DB write, then the payment knobs, in this order:
//   payment_latency_ms_add  added to the charges selected by payment_latency_pct
//   payment_fail_rate       the selected charges are answered 502
// Selection is targeting_hit(<knob>, X-Request-Id, fraction) with the knob names
// "payment_latency_pct" and "payment_fail_rate".
//
// Fixes, off by default (docs/fault-contract.md, "Fixes"):
//   --idempotency           an Idempotency-Key that already captured a charge is answered with
//                           that charge (Idempotent-Replayed: true) and charges nothing; the
//                           check runs on arrival and again, atomically, when the charge is
//                           committed, so a request and its hedge racing each other charge once
//   --deadline-propagation  X-Deadline-Ms is honoured: 504 at once when it has passed on
//                           arrival; the DB call and the charge latency end at the deadline
//
// With the fault endpoints exposed (--faults, not production), payment also remembers the
// order id of every captured charge and answers GET /charges/captured (guarded like /__faults):
// {"captured": [order ids, in capture order, each once], "count": N}. A chaos check compares
// it with the worker's GET /orders/applied to find orders charged but never processed.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>

#include "common/targeting.h"
#include "core/service.h"
#include "core/simulated_db.h"
#include "http/request_json.h"
#include "resilience/captured_orders.h"
#include "resilience/idempotency_store.h"
#include "resilience/request_deadline.h"

namespace faultline::demo {

namespace {

constexpr std::string_view kIdempotencyHeader = "Idempotency-Key";

class PaymentLogic : public RoleLogic {
 public:
  explicit PaymentLogic(Service& s)
      : s_(s),
        db_(s.config().db_latency, s.faults(), s.metrics(), s.stop_signal()),
        charges_(s.metrics().registry.counter(
            "charges_total", "Charges answered by outcome (captured, failed).", {"outcome"})),
        replays_(s.metrics()
                     .registry
                     .counter("idempotent_replays_total",
                              "Charges answered from the idempotency store: the key had "
                              "captured a charge already, nothing was charged again.")
                     .with({})),
        stored_keys_(
            s.metrics()
                .registry.gauge("idempotency_keys", "Idempotency keys payment remembers now.")
                .with({})) {
    charges_.with({"captured"});
    charges_.with({"failed"});
    if (s.config().idempotency) {
      idempotency_ = std::make_unique<IdempotencyStore>(IdempotencyStore::kDefaultCapacity,
                                                        s.config().idempotency_ttl);
      s.metrics().registry.add_collect_hook(
          [this] { stored_keys_.Set(static_cast<double>(idempotency_->size())); });
    }
    if (s.config().deadline_propagation)
      for (const char* stage : {"arrival", "db", "charge"})
        s.metrics().deadline_abandoned.with({stage});
    s.http().route("POST", "/charge", [this](const Request& r) { return charge(r); });
    // Only where it can be read: a production payment keeps no list that nobody may see.
    if (fault_endpoints_exposed(s.fault_guard())) {
      captured_ = std::make_unique<CapturedOrders>();
      install_guarded_route(s.http(), s.fault_guard(), "GET", "/charges/captured",
                            [this](const Request&) { return captured_orders(); });
    }
  }

 private:
  Response charge(const Request& r) {
    if (auto held = s_.hold_if_forced(r)) return *held;
    std::optional<DeadlineClock::time_point> deadline;
    if (s_.config().deadline_propagation) {
      if (auto bad = read_request_deadline(r, DeadlineClock::now(), &deadline)) return *bad;
      if (deadline && DeadlineClock::now() >= *deadline)
        return deadline_exceeded_response(r, s_.metrics(), "arrival");
    }
    rapidjson::Document doc;
    if (auto bad = parse_json_object(r, &doc)) return *bad;
    Response problem;
    auto order_id = id_field(r, doc, "order_id", true, &problem);
    if (!order_id) return problem;
    auto user_id = id_field(r, doc, "user_id", false, &problem);
    if (!user_id) return problem;
    auto amount = amount_field(r, doc, "amount", &problem);
    if (!amount) return problem;

    std::string key;
    const std::string fingerprint = charge_fingerprint(*order_id, *amount);
    if (idempotency_) {
      key = r.header(kIdempotencyHeader);
      if (!key.empty() && !valid_idempotency_key(key))
        return problem_response(
            r, 400, "bad-idempotency-key", "Bad Request",
            "an Idempotency-Key is 1 to 255 printable ASCII characters without spaces",
            {{"field", std::string(kIdempotencyHeader)}});
      if (!key.empty())
        if (auto stored = idempotency_->find(key, Service::now()))
          return replay(r, *stored, fingerprint);
    }

    const DbOutcome db = db_.call(r.request_id, deadline);
    if (db == DbOutcome::kDeadlineExceeded)
      return deadline_exceeded_response(r, s_.metrics(), "db");
    if (db == DbOutcome::kFailed) charges_.with({"failed"}).Increment();
    if (auto failed = db_failure_response(r, db)) return *failed;
    auto& faults = s_.faults();
    const auto now = Service::now();
    const double add_ms = faults.value("payment_latency_ms_add", now);
    if (add_ms > 0 && targeting_hit("payment_latency_pct", r.request_id,
                                    faults.value("payment_latency_pct", now) / 100.0)) {
      Duration wait = std::chrono::milliseconds(static_cast<int64_t>(add_ms));
      const bool past_deadline = deadline && DeadlineClock::now() + wait > *deadline;
      if (past_deadline)
        wait = std::max(Duration{0},
                        std::chrono::duration_cast<Duration>(*deadline - DeadlineClock::now()));
      if (!s_.stop_signal().wait_for(wait)) return shutting_down_response(r);
      if (past_deadline) return deadline_exceeded_response(r, s_.metrics(), "charge");
    }
    if (targeting_hit("payment_fail_rate", r.request_id,
                      faults.value("payment_fail_rate", Service::now()))) {
      charges_.with({"failed"}).Increment();
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
    // The commit: with a key, only the first request to get here charges.
    if (!key.empty())
      if (auto stored = idempotency_->insert_if_absent(key, {fingerprint, body}, Service::now()))
        return replay(r, *stored, fingerprint);
    db_.put(charge_id, body);
    charges_.with({"captured"}).Increment();
    if (captured_) captured_->record(*order_id);
    return json_response(200, std::move(body));
  }

  // GET /charges/captured: {"captured": [order ids, oldest first], "count": N}.
  Response captured_orders() {
    const std::vector<std::string> ids = captured_->ids();
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("captured");
    w.StartArray();
    for (const auto& id : ids) w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
    w.EndArray();
    w.Key("count");
    w.Uint64(ids.size());
    w.EndObject();
    return json_response(200, std::string(buf.GetString(), buf.GetSize()));
  }

  // The answer for a key that captured a charge already.
  Response replay(const Request& r, const IdempotencyStore::Entry& stored,
                  const std::string& fingerprint) {
    if (stored.fingerprint != fingerprint)
      return problem_response(r, 422, "idempotency-key-reused", "Unprocessable Entity",
                              "this Idempotency-Key was used for a different charge (order and "
                              "amount must match the first use)",
                              {{"field", std::string(kIdempotencyHeader)}});
    replays_.Increment();
    Response replayed = json_response(200, stored.body);
    replayed.headers.emplace_back("Idempotent-Replayed", "true");
    return replayed;
  }

  Service& s_;
  SimulatedDb db_;
  CounterFamily& charges_;
  Counter& replays_;
  Gauge& stored_keys_;
  std::unique_ptr<IdempotencyStore> idempotency_;  // null without --idempotency
  std::unique_ptr<CapturedOrders> captured_;       // null unless the fault endpoints exist
  std::atomic<uint64_t> counter_{0};
};

}  // namespace

std::unique_ptr<RoleLogic> make_payment_logic(Service& service) {
  return std::make_unique<PaymentLogic>(service);
}

}  // namespace faultline::demo
