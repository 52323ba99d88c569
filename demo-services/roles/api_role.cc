// The api role: users and orders over a simulated DB, a synchronous charge at payment, and a
// job on the Redis queue for the worker.
//
//   GET  /users/{id}   DB read; ids 1..1000000 exist
//   POST /orders       {"user_id": "u-1" | 42, "amount": 12.5 [, "client_order_id": "c-1"]}
//                      -> DB write, charge, enqueue; 201 with the order (its "order_id").
//                      (the charge's fixes - idempotency key, hedge, deadline, retry budget -
//                      are resilience/payment_client.h's policies, switched on by flags)
//                      client_order_id makes the request idempotent
//                      (resilience/client_order_registry.h): the same id gets the same order,
//                      charged at most once (the charge carries Idempotency-Key: <order id>)
//                      and enqueued once; a repeat of a created order replays its 201
//   GET  /orders/{id}  DB read of an order this process created
//
// Runtime levers (PUT /__levers, faults/levers.h) act on POST /orders: payment_kill_switch and
// max_in_flight_orders answer 503 before any work; the charge levers (timeout, retries, hedge,
// retry budget) replace the start-up policy for the next orders.
//
// An order whose enqueue failed after the charge was captured (Redis down, or the
// enqueue_fail_rate knob) is "paid but not queued": the 503 names it, and the api remembers it
// (resilience/unqueued_orders.h). With --reconcile-interval a background loop enqueues such
// orders again; it takes the client_order_id claim as a client retry would, so an order is
// enqueued once however the reconciler and the client's retries interleave.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "common/rng.h"
#include "common/targeting.h"
#include "core/event_log.h"
#include "core/service.h"
#include "core/simulated_db.h"
#include "http/request_json.h"
#include "http/trace_context.h"
#include "queue/order_queue.h"
#include "queue/redis_connection.h"
#include "resilience/client_order_registry.h"
#include "resilience/idempotency_store.h"
#include "resilience/payment_client.h"
#include "resilience/request_deadline.h"
#include "resilience/unqueued_orders.h"

namespace faultline::demo {

namespace {

constexpr int64_t kMaxUserId = 1'000'000;
constexpr auto kProbeTimeout = std::chrono::milliseconds(200);

// A per-process prefix so order ids never repeat across restarts of the api against the same
// Redis (the worker's idempotency marks outlive the api process).
std::string process_nonce() {
  const auto t = std::chrono::system_clock::now().time_since_epoch().count();
  const uint64_t h = mix64(fnv1a64(std::to_string(::getpid()) + ":" + std::to_string(t)));
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(h & 0xffffffffULL));
  return buf;
}

struct OrderFields {
  std::string order_id;
  std::string client_order_id;  // "" when the client sent none
  std::string user_id;
  double amount = 0;
};

std::string order_json(const OrderFields& o, const std::string& status,
                       const std::string& request_id) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("order_id");
  w.String(o.order_id);
  if (!o.client_order_id.empty()) {
    w.Key("client_order_id");
    w.String(o.client_order_id);
  }
  w.Key("user_id");
  w.String(o.user_id);
  w.Key("amount");
  w.Double(o.amount);
  w.Key("status");
  w.String(status);
  w.Key("request_id");
  w.String(request_id);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

PaymentPolicy payment_policy(const DemoConfig& c) {
  PaymentPolicy p;
  p.base_url = c.payment_url;
  p.timeout = c.payment_timeout;
  p.retries = c.payment_retries;
  p.backoff = c.payment_backoff;
  p.idempotency_keys = c.idempotency;
  p.hedge_after = c.payment_hedge_after;
  p.propagate_deadline = c.deadline_propagation;
  p.retry_budget_ratio = c.retry_budget;
  p.retry_budget_min_per_second = c.retry_budget_min_per_second;
  return p;
}

class ApiLogic : public RoleLogic {
 public:
  // The queue's length at scrape time. When redis does not answer (within 200 ms) the last
  // value stays; dependency_up{dependency="redis"} says why.
  void sample_queue_depth() {
    std::lock_guard<std::mutex> lock(depth_mu_);
    try {
      queue_depth_.Set(static_cast<double>(
          depth_conn_.command({"LLEN", std::string(order_keys::kQueue)}).integer));
    } catch (const RedisError&) {
    }
  }

  explicit ApiLogic(Service& s)
      : s_(s),
        db_(s.config().db_latency, s.faults(), s.metrics(), s.stop_signal()),
        payment_(payment_policy(s.config()), s.metrics(), s.stop_signal()),
        redis_address_{s.config().redis_host, s.config().redis_port},
        redis_(redis_address_, std::chrono::milliseconds(500), std::chrono::seconds(2)),
        probe_conn_(redis_address_, kProbeTimeout, kProbeTimeout),
        nonce_(process_nonce()),
        order_replays_(s.metrics()
                           .registry
                           .counter("orders_replayed_total",
                                    "POST /orders answered with the order an earlier request "
                                    "with the same client_order_id created (nothing charged or "
                                    "queued again).")
                           .with({})),
        reconciled_(s.metrics()
                        .registry
                        .counter("orders_reconciled_total",
                                 "Paid orders whose enqueue had failed, enqueued later by the "
                                 "reconciler (--reconcile-interval).")
                        .with({})),
        unqueued_gauge_(s.metrics()
                            .registry
                            .gauge("orders_paid_not_queued",
                                   "Orders paid (charge captured) whose job is not on the queue "
                                   "yet, as this api process knows them (at scrape).")
                            .with({})),
        depth_conn_(redis_address_, kProbeTimeout, kProbeTimeout),
        queue_depth_(s.metrics()
                         .registry
                         .gauge("queue_depth",
                                "Jobs waiting in orders:queue (at scrape), as the producer sees "
                                "it: it stays observable while the worker is down.")
                         .with({})) {
    s.metrics().registry.add_collect_hook([this] {
      unqueued_gauge_.Set(static_cast<double>(unqueued_.size()));
      sample_queue_depth();
    });
    for (const char* reason : {"overload", "kill_switch"}) s.metrics().requests_shed.with({reason});
    s.http().route("GET", "/users/{id}", [this](const Request& r) { return get_user(r); });
    s.http().route("POST", "/orders", [this](const Request& r) { return create_order(r); });
    s.http().route("GET", "/orders/{id}", [this](const Request& r) { return get_order(r); });
    s.readiness().add_dependency("redis", true, [this] { return redis_ping(probe_conn_); });
    s.readiness().add_dependency("payment", s.config().payment_required,
                                 [this] { return payment_.probe(kProbeTimeout); });
  }

  void start() override {
    if (s_.config().reconcile_interval > Duration{0})
      reconciler_ = std::thread([this] { reconcile_loop(); });
  }

  void stop() override {
    if (reconciler_.joinable()) reconciler_.join();
  }

 private:
  std::optional<Response> db_call(const Request& r) {
    return db_failure_response(r, db_.call(r.request_id));
  }

  Response get_user(const Request& r) {
    if (auto held = s_.hold_if_forced(r)) return *held;
    const std::string id = r.param("id");
    int64_t n = 0;
    const auto res = std::from_chars(id.data(), id.data() + id.size(), n);
    if (res.ec != std::errc() || res.ptr != id.data() + id.size())
      return problem_response(r, 400, "bad-user-id", "Bad Request",
                              "a user id is a whole number, got '" + id + "'");
    if (auto failed = db_call(r)) return *failed;
    if (n < 1 || n > kMaxUserId)
      return problem_response(
          r, 404, "no-such-user", "Not Found",
          "user " + id + " does not exist (ids are 1.." + std::to_string(kMaxUserId) + ")");
    static const char* const tiers[] = {"bronze", "silver", "gold"};
    return json_response(200, "{\"id\":" + std::to_string(n) + ",\"name\":\"user-" +
                                  std::to_string(n) + "\",\"tier\":\"" + tiers[n % 3] + "\"}");
  }

  // The runtime levers (faults/levers.h) that act before an order does any work: shedding
  // beyond max_in_flight_orders, and the payment kill switch. Both answer 503 at once, so a
  // client backs off (Retry-After) instead of holding a thread for the payment timeout.
  std::optional<Response> shed(const Request& r, int64_t in_flight) {
    const auto now = Service::now();
    FaultState& levers = s_.levers();
    if (levers.flag("payment_kill_switch", now)) {
      s_.metrics().requests_shed.with({"kill_switch"}).Increment();
      Response off = problem_response(r, 503, "payment-disabled", "Service Unavailable",
                                      "orders are switched off while payment is disabled (the "
                                      "payment_kill_switch lever); nothing was charged");
      off.headers.emplace_back("Retry-After", "5");
      return off;
    }
    const auto limit = static_cast<int64_t>(levers.value("max_in_flight_orders", now));
    if (limit > 0 && in_flight > limit) {
      s_.metrics().requests_shed.with({"overload"}).Increment();
      Response busy = problem_response(
          r, 503, "overloaded", "Service Unavailable",
          "more than " + std::to_string(limit) +
              " orders in flight (the max_in_flight_orders lever); nothing was charged");
      busy.headers.emplace_back("Retry-After", "1");
      return busy;
    }
    // The charge's levers, read per order: a PUT /__levers or a lease running out acts on
    // the next order.
    payment_.set_levers(
        {std::chrono::milliseconds(static_cast<int64_t>(levers.value("payment_timeout_ms", now))),
         static_cast<int>(levers.value("payment_retries", now)),
         std::chrono::milliseconds(
             static_cast<int64_t>(levers.value("payment_hedge_after_ms", now))),
         levers.value("retry_budget_ratio", now)});
    return std::nullopt;
  }

  Response create_order(const Request& r) {
    if (auto held = s_.hold_if_forced(r)) return *held;
    const int64_t in_flight = orders_in_flight_.fetch_add(1) + 1;
    struct Leave {
      std::atomic<int64_t>& n;
      ~Leave() { n.fetch_sub(1); }
    } leave{orders_in_flight_};
    if (auto refused = shed(r, in_flight)) return *refused;
    // With deadline propagation the caller's X-Deadline-Ms bounds the charge too.
    std::optional<DeadlineClock::time_point> deadline;
    if (s_.config().deadline_propagation) {
      if (auto bad = read_request_deadline(r, DeadlineClock::now(), &deadline)) return *bad;
      if (deadline && DeadlineClock::now() >= *deadline)
        return deadline_exceeded_response(r, s_.metrics(), "arrival");
    }
    rapidjson::Document doc;
    if (auto bad = parse_json_object(r, &doc)) return *bad;
    Response problem;
    auto user_id = id_field(r, doc, "user_id", true, &problem);
    if (!user_id) return problem;
    auto amount = amount_field(r, doc, "amount", &problem);
    if (!amount) return problem;

    auto client_order_id = id_field(r, doc, "client_order_id", false, &problem);
    if (!client_order_id) return problem;

    OrderFields order{"ord-" + nonce_ + "-" + std::to_string(order_counter_.fetch_add(1) + 1),
                      *client_order_id, *user_id, *amount};
    bool charged = false;  // a previous attempt with this client_order_id captured the charge
    if (!order.client_order_id.empty()) {
      const auto claim = client_orders_.claim(
          order.client_order_id, charge_fingerprint(order.user_id, order.amount), order.order_id);
      switch (claim.kind) {
        case ClientOrderRegistry::Claim::Kind::kConflict:
          return problem_response(r, 422, "client-order-id-reused", "Unprocessable Entity",
                                  "this client_order_id was used for another order (user_id "
                                  "and amount must match the first use)",
                                  {{"field", "client_order_id"}});
        case ClientOrderRegistry::Claim::Kind::kInProgress: {
          Response busy =
              problem_response(r, 409, "order-in-progress", "Conflict",
                               "a request with this client_order_id is being handled; retry later",
                               {{"order_id", claim.order_id}, {"field", "client_order_id"}});
          busy.headers.emplace_back("Retry-After", "1");
          return busy;
        }
        case ClientOrderRegistry::Claim::Kind::kDone: {
          order_replays_.Increment();
          Response replayed = json_response(201, claim.body);
          replayed.headers.emplace_back("Location", "/orders/" + claim.order_id);
          replayed.headers.emplace_back("Idempotent-Replayed", "true");
          return replayed;
        }
        case ClientOrderRegistry::Claim::Kind::kOwner:
          order.order_id = claim.order_id;
          charged = claim.charged;
          break;
      }
    }
    // Until the order is created, any way out (failure, exception) opens the id again for a
    // retry, remembering whether the charge was captured.
    struct Release {
      ClientOrderRegistry& registry;
      const std::string& id;
      const bool& charged;
      bool done = false;
      ~Release() {
        if (!done && !id.empty()) registry.release(id, charged);
      }
    } release{client_orders_, order.client_order_id, charged};

    if (auto failed = db_call(r)) return *failed;
    if (!charged) {
      db_.put(order.order_id, order_json(order, "pending_payment", r.request_id));
      ChargeRequest charge{order.order_id,          *user_id, *amount, r.request_id,
                           r.header("traceparent"), deadline};
      // A client retrying an order may meet a charge an earlier attempt left behind (timed
      // out here, captured at payment): the key lets payment (--idempotency) replay it.
      charge.idempotency_key = !order.client_order_id.empty();
      const ChargeResult paid = payment_.charge(charge);
      if (paid.kind != ChargeResult::Kind::kCaptured) {
        db_.put(order.order_id, order_json(order, "payment_failed", r.request_id));
        return payment_problem(r, order.order_id, paid);
      }
      charged = true;
    }

    Job job;
    job.order_id = order.order_id;
    job.request_id = r.request_id;
    job.user_id = *user_id;
    job.amount = *amount;
    job.enqueued_at_ms = unix_time_ms();
    if (!r.trace_id.empty()) job.traceparent = r.header("traceparent");
    // The enqueue_fail_rate knob: the broker refuses this order's job (Redis is not asked).
    const bool refused = targeting_hit("enqueue_fail_rate", r.request_id,
                                       s_.faults().value("enqueue_fail_rate", Service::now()));
    const std::string error = enqueue(job, refused);
    if (!error.empty()) {
      db_.put(order.order_id, order_json(order, "paid_not_queued", r.request_id));
      remember_unqueued(job, order.client_order_id);
      return problem_response(r, 503, "queue-unavailable", "Service Unavailable",
                              "the order is paid but could not be queued: " + error,
                              {{"order_id", order.order_id}});
    }
    unqueued_.remove(order.order_id);  // an earlier attempt of this order may have left it
    const std::string body = order_json(order, "queued", r.request_id);
    db_.put(order.order_id, body);
    if (!order.client_order_id.empty()) client_orders_.finish(order.client_order_id, body);
    release.done = true;
    Response created = json_response(201, body);
    created.headers.emplace_back("Location", "/orders/" + order.order_id);
    return created;
  }

  // Puts `job` on the queue. Returns "" on success, else why it is not queued. `refused`: the
  // enqueue_fail_rate knob hit, answer as a broker refusing the job would (at once).
  std::string enqueue(const Job& job, bool refused) {
    const auto start = std::chrono::steady_clock::now();
    std::string error;
    bool timed_out = false;
    if (refused) {
      error = "the broker refused the job (enqueue_fail_rate)";
    } else {
      try {
        redis_.run([&](RedisConnection& conn) { OrderQueue(conn).enqueue(job); });
      } catch (const RedisError& e) {
        error = e.what();
        timed_out = e.timeout();
      }
    }
    s_.metrics()
        .dep_call_duration.with({"redis", error.empty() ? "ok" : (timed_out ? "timeout" : "error")})
        .Observe(seconds_between(start, std::chrono::steady_clock::now()));
    return error;
  }

  void remember_unqueued(const Job& job, const std::string& client_order_id) {
    if (auto forgotten = unqueued_.add({job, client_order_id}))
      log_event(LogLevel::kWarn, "unqueued_order_forgotten",
                {{"order_id", *forgotten},
                 {"detail",
                  "too many orders paid but not queued; this one will not be "
                  "reconciled"}});
  }

  // The reconciler's thread: a pass every --reconcile-interval until the service stops.
  void reconcile_loop() {
    while (s_.stop_signal().wait_for(s_.config().reconcile_interval)) {
      int failed = 0;
      std::string first_error;
      for (const UnqueuedOrders::Entry& entry : unqueued_.snapshot()) {
        if (s_.stop_signal().stop_requested()) return;
        std::string error;
        try {
          error = reconcile(entry);
        } catch (const std::exception& e) {
          error = e.what();
        }
        if (!error.empty() && failed++ == 0) first_error = error;
      }
      if (failed > 0)
        log_event(LogLevel::kWarn, "reconcile_failed",
                  {{"orders", std::to_string(failed)}, {"error", first_error}});
    }
  }

  // Enqueues one paid-but-unqueued order unless someone else did or is doing it. Returns "" when
  // the order is queued or left to its owner, else the enqueue's error (it stays unqueued).
  std::string reconcile(const UnqueuedOrders::Entry& entry) {
    OrderFields order{entry.job.order_id, entry.client_order_id, entry.job.user_id,
                      entry.job.amount};
    // With a client_order_id, a client retry may enqueue the order too: take the id's claim as
    // the retry would, so exactly one of us owns the order at a time. Without one, nothing
    // but this thread can enqueue the order.
    bool owner = false;
    if (!order.client_order_id.empty()) {
      const auto claim = client_orders_.claim(
          order.client_order_id, charge_fingerprint(order.user_id, order.amount), order.order_id);
      using Kind = ClientOrderRegistry::Claim::Kind;
      const bool same_order = claim.kind != Kind::kConflict && claim.order_id == order.order_id;
      if (same_order && claim.kind == Kind::kDone) {  // a client retry queued it
        unqueued_.remove(order.order_id);
        return "";
      }
      if (same_order && claim.kind == Kind::kInProgress) return "";  // next pass
      owner = same_order && claim.kind == Kind::kOwner;
      // Otherwise the registry forgot this order (capacity) and the client_order_id now names
      // another one: no client retry reaches this order any more. Give back a claim on the other.
      if (!same_order && claim.kind == Kind::kOwner)
        client_orders_.release(order.client_order_id, claim.charged);
    }
    struct Release {  // an owner that did not queue the order opens it again for a retry
      ClientOrderRegistry& registry;
      const std::string& id;
      bool active;
      ~Release() {
        if (active) registry.release(id, true);
      }
    } release{client_orders_, order.client_order_id, owner};

    Job job = entry.job;
    job.enqueued_at_ms = unix_time_ms();
    const std::string error = enqueue(job, false);
    if (!error.empty()) return error;
    const std::string body = order_json(order, "queued", job.request_id);
    db_.put(order.order_id, body);
    if (owner) client_orders_.finish(order.client_order_id, body);
    release.active = false;
    unqueued_.remove(order.order_id);
    reconciled_.Increment();
    std::vector<LogField> fields = {{"order_id", order.order_id}, {"request_id", job.request_id}};
    if (!order.client_order_id.empty())
      fields.push_back({"client_order_id", order.client_order_id});
    const std::string_view trace_id = trace_id_of(job.traceparent);
    if (!trace_id.empty()) fields.push_back({"trace_id", std::string(trace_id)});
    log_event(LogLevel::kInfo, "order_reconciled", fields);
    return "";
  }

  static Response payment_problem(const Request& r, const std::string& order_id,
                                  const ChargeResult& paid) {
    const std::vector<std::pair<std::string, std::string>> extra = {
        {"payment_attempts", std::to_string(paid.attempts)}, {"order_id", order_id}};
    const std::string tries = " after " + std::to_string(paid.attempts) + " attempt(s)";
    switch (paid.kind) {
      case ChargeResult::Kind::kTimeout:
        return problem_response(r, 504, "payment-timeout", "Gateway Timeout",
                                "payment did not answer in time" + tries, extra);
      case ChargeResult::Kind::kUnreachable:
        return problem_response(r, 502, "payment-unreachable", "Bad Gateway",
                                "payment is unreachable (" + paid.detail + ")" + tries, extra);
      case ChargeResult::Kind::kRejected:
        return problem_response(r, 502, "payment-rejected", "Bad Gateway",
                                "payment rejected the charge (" + paid.detail + ")", extra);
      case ChargeResult::Kind::kInterrupted:
        return shutting_down_response(r);
      case ChargeResult::Kind::kFailed:
      case ChargeResult::Kind::kCaptured:
        break;
    }
    return problem_response(r, 502, "payment-failed", "Bad Gateway",
                            "the charge failed (" + paid.detail + ")" + tries, extra);
  }

  Response get_order(const Request& r) {
    if (auto held = s_.hold_if_forced(r)) return *held;
    if (auto failed = db_call(r)) return *failed;
    auto order = db_.get(r.param("id"));
    if (!order)
      return problem_response(r, 404, "no-such-order", "Not Found",
                              "order '" + r.param("id") + "' does not exist here");
    return json_response(200, *order);
  }

  Service& s_;
  SimulatedDb db_;
  PaymentClient payment_;
  RedisAddress redis_address_;
  RedisPool redis_;
  RedisConnection probe_conn_;  // used only by the readiness thread
  std::string nonce_;
  std::atomic<uint64_t> order_counter_{0};
  std::atomic<int64_t> orders_in_flight_{0};  // POST /orders being handled, for shedding
  ClientOrderRegistry client_orders_;
  UnqueuedOrders unqueued_;  // paid, not queued: what the reconciler enqueues
  Counter& order_replays_;
  Counter& reconciled_;
  Gauge& unqueued_gauge_;
  std::mutex depth_mu_;         // guards depth_conn_ (scrapes may overlap)
  RedisConnection depth_conn_;  // LLEN at scrape; its own connection, 200 ms timeouts
  Gauge& queue_depth_;
  std::thread reconciler_;  // runs only with --reconcile-interval
};

}  // namespace

std::unique_ptr<RoleLogic> make_api_logic(Service& service) {
  return std::make_unique<ApiLogic>(service);
}

}  // namespace faultline::demo
