// The broker-down experiment's demo support: the api's enqueue_fail_rate knob leaves orders
// charged but not queued, payment lists what it captured (GET /charges/captured) so a check can
// compare it with the worker's applied effects (GET /orders/applied), and the reconciler
// (--reconcile-interval) enqueues the paid orders later - each exactly once, also when a client
// retries the same client_order_id meanwhile.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/targeting.h"
#include "demo_cluster.h"
#include "demo_test_helpers.h"

using namespace faultline::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kCaptured = R"(charges_total{outcome="captured"})";

// The order ids of a {"<list>": [...], "count": N} answer; REQUIREs count to match.
std::vector<std::string> id_list(const faultline::HttpResponse& r, const char* list) {
  REQUIRE(r.status == 200);
  const auto doc = parse_json(r.body);
  REQUIRE(doc.IsObject());
  REQUIRE(doc[list].IsArray());
  std::vector<std::string> ids;
  for (const auto& v : doc[list].GetArray()) ids.emplace_back(v.GetString());
  REQUIRE(doc["count"].GetUint64() == ids.size());
  return ids;
}

std::vector<std::string> captured(const DemoCluster& cluster) {
  return id_list(http_get(cluster.payment_url() + "/charges/captured"), "captured");
}

std::vector<std::string> applied(const DemoCluster& cluster) {
  return id_list(http_get(cluster.worker_url() + "/orders/applied"), "applied");
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::string order_with_client_id(const std::string& client_order_id) {
  return R"({"user_id": 7, "amount": 3.5, "client_order_id": ")" + client_order_id + "\"}";
}

// Sends an order that the enqueue_fail_rate knob (at 1) refuses; returns its order id.
std::string paid_not_queued_order(const DemoCluster& cluster, const std::string& request_id,
                                  const std::string& body) {
  const auto r = http_post(cluster.api_url() + "/orders", body, {"X-Request-Id: " + request_id});
  REQUIRE(r.status == 503);
  const auto doc = parse_json(r.body);
  CHECK(std::string(doc["type"].GetString()) == "urn:faultline:problem:queue-unavailable");
  CHECK(std::string(doc["detail"].GetString()).find("enqueue_fail_rate") != std::string::npos);
  REQUIRE(doc["order_id"].IsString());
  return doc["order_id"].GetString();
}

std::string order_status(const DemoCluster& cluster, const std::string& order_id) {
  const auto r = http_get(cluster.api_url() + "/orders/" + order_id);
  REQUIRE(r.status == 200);
  return parse_json(r.body)["status"].GetString();
}

}  // namespace

TEST_CASE("broker-down: with enqueue_fail_rate 1 orders are charged but never applied") {
  DemoCluster cluster;
  INFO(cluster.logs());
  // The reconciler's counter exists at 0 even when it is off.
  CHECK(scrape(cluster.api_url(), "orders_reconciled_total") == 0);
  CHECK(scrape(cluster.api_url(), "orders_paid_not_queued") == 0);
  REQUIRE(set_faults(cluster.api_url(), R"({"enqueue_fail_rate": 1.0})").status == 200);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(paid_not_queued_order(cluster, "bd-" + std::to_string(i), order_body(i)));
  CHECK(captured(cluster) == ids);
  CHECK(scrape(cluster.payment_url(), kCaptured) == 5);
  for (const auto& id : ids) CHECK(order_status(cluster, id) == "paid_not_queued");
  CHECK(scrape(cluster.api_url(), "orders_paid_not_queued") == 5);
  CHECK(cluster.redis().integer({"LLEN", "orders:queue"}) == 0);

  // The worker is working: an order sent after the knob is off is applied, and it is the only one.
  REQUIRE(http_post(cluster.api_url() + "/__faults/reset", "").status == 200);
  const auto ok = http_post(cluster.api_url() + "/orders", order_body(9));
  REQUIRE(ok.status == 201);
  const std::string ok_id = parse_json(ok.body)["order_id"].GetString();
  REQUIRE(wait_until([&] { return !applied(cluster).empty(); }, 5s));
  CHECK(applied(cluster) == std::vector<std::string>{ok_id});
  ids.push_back(ok_id);
  CHECK(captured(cluster) == ids);
  CHECK(scrape(cluster.api_url(), "orders_reconciled_total") == 0);
  CHECK(scrape(cluster.api_url(), "orders_paid_not_queued") == 5);
}

TEST_CASE("broker-down: enqueue_fail_rate refuses exactly the targeted request ids") {
  DemoCluster cluster;
  INFO(cluster.logs());
  REQUIRE(set_faults(cluster.api_url(), R"({"enqueue_fail_rate": 0.3})").status == 200);
  const auto answers = send_orders(cluster.api_url(), "eq-", 40, 4);
  int refused = 0;
  for (const auto& a : answers) {
    CAPTURE(a.id);
    const bool targeted = faultline::targeting_hit("enqueue_fail_rate", a.id, 0.3);
    CHECK(a.status == (targeted ? 503 : 201));
    refused += targeted ? 1 : 0;
  }
  CHECK(refused > 0);
  CHECK(refused < 40);
  // Every order was charged; the refused ones are the gap between captured and applied.
  CHECK(scrape(cluster.payment_url(), kCaptured) == 40);
  REQUIRE(wait_until([&] { return applied(cluster).size() == 40u - refused; }, 5s));
  CHECK(captured(cluster).size() == 40);
}

TEST_CASE("broker-down: the reconciler enqueues every paid order once and counts it") {
  DemoClusterOptions options;
  options.extra_api_args = {"--reconcile-interval", "200ms"};
  DemoCluster cluster(options);
  INFO(cluster.logs());
  CHECK(scrape(cluster.api_url(), "orders_reconciled_total") == 0);
  // The knob stays on throughout: it refuses the enqueue of POST /orders, not the reconciler's.
  REQUIRE(set_faults(cluster.api_url(), R"({"enqueue_fail_rate": 1.0})").status == 200);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(paid_not_queued_order(cluster, "rc-" + std::to_string(i), order_body(i)));
  for (int i = 0; i < 3; ++i)
    ids.push_back(paid_not_queued_order(cluster, "rcc-" + std::to_string(i),
                                        order_with_client_id("c-" + std::to_string(i))));
  CHECK(sorted(captured(cluster)) == sorted(ids));

  // Within a few intervals every charged order has its effect.
  CHECK(wait_until([&] { return applied(cluster).size() >= ids.size(); }, 10s));
  REQUIRE(wait_until([&] { return drained(cluster); }, 5s));
  CHECK(sorted(applied(cluster)) == sorted(ids));
  CHECK(scrape(cluster.api_url(), "orders_reconciled_total") == 6);
  CHECK(scrape(cluster.api_url(), "orders_paid_not_queued") == 0);
  CHECK(scrape(cluster.worker_url(), "jobs_processed_total") == 6);
  CHECK(scrape(cluster.worker_url(), "jobs_duplicate_total") == 0);
  for (const auto& id : ids) CHECK(order_status(cluster, id) == "queued");
  const std::string api_log = read_text(cluster.log_dir() + "/api.log");
  for (const auto& id : ids)
    CHECK_MESSAGE(api_log.find("event=order_reconciled order_id=" + id + " ") != std::string::npos,
                  id);

  // A client retry of a reconciled order replays it: nothing charged or queued again.
  const auto retry = http_post(cluster.api_url() + "/orders", order_with_client_id("c-1"));
  CHECK(retry.status == 201);
  CHECK(retry.header("Idempotent-Replayed") == "true");
  CHECK(std::string(parse_json(retry.body)["order_id"].GetString()) == ids[4]);
  CHECK(std::string(parse_json(retry.body)["status"].GetString()) == "queued");
  CHECK(scrape(cluster.payment_url(), kCaptured) == 6);
  CHECK(captured(cluster).size() == 6);
  // A pass later the reconciler has still counted each order once.
  CHECK_FALSE(
      wait_until([&] { return scrape(cluster.api_url(), "orders_reconciled_total") != 6; }, 500ms));
  CHECK(scrape(cluster.worker_url(), "jobs_processed_total") == 6);
}

TEST_CASE("broker-down: client retries racing the reconciler enqueue each order once") {
  DemoClusterOptions options;
  // A short interval, so the reconciler's passes overlap the retries as often as possible.
  options.extra_api_args = {"--reconcile-interval", "10ms"};
  DemoCluster cluster(options);
  INFO(cluster.logs());
  // Redis is down while the orders are made and while the clients start retrying, so neither
  // the reconciler nor a retry can enqueue anything until it is back: then both race for every
  // order at once.
  cluster.stop_redis();
  REQUIRE(set_faults(cluster.api_url(), R"({"enqueue_fail_rate": 1.0})").status == 200);
  constexpr int kOrders = 24;
  std::vector<std::string> ids;
  for (int i = 0; i < kOrders; ++i)
    ids.push_back(paid_not_queued_order(cluster, "race-" + std::to_string(i),
                                        order_with_client_id("race-" + std::to_string(i))));
  REQUIRE(http_post(cluster.api_url() + "/__faults/reset", "").status == 200);

  // One client per order retries until it gets a 201: a fresh one when its retry enqueued the
  // order, a replay when the reconciler had; 409 while the other side holds the order, 503
  // while Redis is down (or the api's bulkhead is full).
  std::atomic<int> created_by_client{0};
  std::atomic<int> replays{0};
  std::atomic<int> conflicts{0};
  std::atomic<int> unexpected{0};
  std::atomic<int> started{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kOrders; ++i)
    clients.emplace_back([&, i] {
      const std::string body = order_with_client_id("race-" + std::to_string(i));
      const auto deadline = std::chrono::steady_clock::now() + 20s;
      bool first = true;
      while (std::chrono::steady_clock::now() < deadline) {
        const auto r = http_post(cluster.api_url() + "/orders", body);
        if (first) ++started;
        first = false;
        if (r.status == 409 || r.status == 503) {
          if (r.status == 409) ++conflicts;
          std::this_thread::sleep_for(1ms);  // pacing only: the next attempt decides
          continue;
        }
        if (r.status != 201 ||
            parse_json(r.body)["order_id"].GetString() != ids[static_cast<size_t>(i)])
          ++unexpected;
        else if (r.header("Idempotent-Replayed") == "true")
          ++replays;
        else
          ++created_by_client;
        return;
      }
      ++unexpected;  // never got its 201
    });
  const bool all_started = wait_until([&] { return started == kOrders; }, 10s);
  cluster.start_redis();
  for (auto& c : clients) c.join();
  REQUIRE(all_started);
  const double reconciled = scrape(cluster.api_url(), "orders_reconciled_total");
  MESSAGE("enqueued by a client retry: " << created_by_client.load() << ", by the reconciler: "
                                         << reconciled << ", 409s: " << conflicts.load());
  CHECK(unexpected == 0);
  CHECK(created_by_client + replays == kOrders);

  REQUIRE(wait_until([&] { return applied(cluster).size() >= kOrders; }, 10s));
  REQUIRE(wait_until([&] { return drained(cluster); }, 5s));
  // One job per order: the worker saw no duplicate delivery, and each order has one effect.
  CHECK(scrape(cluster.worker_url(), "jobs_processed_total") == kOrders);
  CHECK(scrape(cluster.worker_url(), "jobs_duplicate_total") == 0);
  CHECK(sorted(applied(cluster)) == sorted(ids));
  CHECK(scrape(cluster.api_url(), "orders_reconciled_total") + created_by_client == kOrders);
  CHECK(scrape(cluster.payment_url(), kCaptured) == kOrders);
  CHECK(scrape(cluster.api_url(), "orders_paid_not_queued") == 0);
}

TEST_CASE("broker-down: the reconciler leaves an order alone while a client retry holds it") {
  DemoClusterOptions options;
  options.extra_api_args = {"--reconcile-interval", "20ms"};
  DemoCluster cluster(options);
  INFO(cluster.logs());
  cluster.stop_redis();  // nobody can enqueue until the retry below holds the order
  REQUIRE(set_faults(cluster.api_url(), R"({"enqueue_fail_rate": 1.0})").status == 200);
  const std::string id = paid_not_queued_order(cluster, "hold-0", order_with_client_id("c-hold"));
  // The retry owns the order for 1.5 s (its DB call) before it enqueues; Redis comes back
  // meanwhile, and the reconciler passes about 70 times while the order is claimed.
  REQUIRE(set_faults(cluster.api_url(), R"({"enqueue_fail_rate": 0, "db_latency_ms_add": 1500})")
              .status == 200);
  faultline::HttpResponse retry;
  std::thread client(
      [&] { retry = http_post(cluster.api_url() + "/orders", order_with_client_id("c-hold")); });
  // The retry is in the api (two requests in flight: it and the scrape).
  const bool holding =
      wait_until([&] { return scrape(cluster.api_url(), "http_requests_in_flight") >= 2; }, 5s);
  cluster.start_redis();
  client.join();
  REQUIRE(holding);
  REQUIRE(retry.status == 201);
  CHECK(retry.header("Idempotent-Replayed") == "");
  CHECK(std::string(parse_json(retry.body)["order_id"].GetString()) == id);
  REQUIRE(wait_until([&] { return applied(cluster).size() == 1; }, 5s));
  REQUIRE(wait_until([&] { return drained(cluster); }, 5s));
  // A few passes later: the reconciler never enqueued it, the worker got one job.
  CHECK_FALSE(
      wait_until([&] { return scrape(cluster.api_url(), "orders_reconciled_total") != 0; }, 200ms));
  CHECK(scrape(cluster.api_url(), "orders_paid_not_queued") == 0);
  CHECK(scrape(cluster.worker_url(), "jobs_processed_total") == 1);
  CHECK(scrape(cluster.worker_url(), "jobs_duplicate_total") == 0);
  CHECK(applied(cluster) == std::vector<std::string>{id});
}

TEST_CASE("payment: GET /charges/captured lists each captured order once, replays not again") {
  DemoClusterOptions options;
  options.start_worker = false;
  options.extra_payment_args = {"--idempotency"};
  DemoCluster cluster(options);
  INFO(cluster.logs());
  const std::string charge = cluster.payment_url() + "/charge";
  CHECK(captured(cluster).empty());
  // An idempotent replay charges nothing and lists nothing.
  REQUIRE(
      http_post(charge, R"({"order_id": "o-1", "amount": 2})", {"Idempotency-Key: k-1"}).status ==
      200);
  const auto replay =
      http_post(charge, R"({"order_id": "o-1", "amount": 2})", {"Idempotency-Key: k-1"});
  REQUIRE(replay.status == 200);
  CHECK(replay.header("Idempotent-Replayed") == "true");
  // Without a key the same order is charged twice, and listed once.
  REQUIRE(http_post(charge, R"({"order_id": "o-2", "amount": 2})").status == 200);
  REQUIRE(http_post(charge, R"({"order_id": "o-2", "amount": 2})").status == 200);
  // A failed charge is not captured.
  REQUIRE(set_faults(cluster.payment_url(), R"({"payment_fail_rate": 1.0})").status == 200);
  CHECK(http_post(charge, R"({"order_id": "o-3", "amount": 2})").status == 502);
  CHECK(scrape(cluster.payment_url(), kCaptured) == 3);
  CHECK(captured(cluster) == std::vector<std::string>{"o-1", "o-2"});
}

TEST_CASE("payment: GET /charges/captured is guarded like /__faults (only with --faults, token)") {
  {
    DemoClusterOptions options;
    options.start_worker = false;
    options.fault_token = "tok";
    DemoCluster cluster(options);
    const std::string url = cluster.payment_url() + "/charges/captured";
    CHECK(http_get(url).status == 401);
    CHECK(http_get(url, {"Authorization: Bearer nope"}).status == 401);
    const auto ok = http_get(url, {"Authorization: Bearer tok"});
    CHECK(ok.status == 200);
    CHECK(parse_json(ok.body)["count"].GetUint64() == 0);
  }
  {
    DemoClusterOptions options;
    options.start_worker = false;
    options.faults = false;
    DemoCluster cluster(options);
    CHECK(http_get(cluster.payment_url() + "/charges/captured").status == 404);
  }
  {
    DemoClusterOptions options;
    options.start_worker = false;
    options.production = true;
    DemoCluster cluster(options);
    CHECK(http_get(cluster.payment_url() + "/charges/captured").status == 404);
  }
}
