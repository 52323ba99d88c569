// Orders end to end for the zero-loss and duplicate checks: client_order_id makes POST /orders
// idempotent (one order id, one charge, one job), the worker counts and lists every effect it
// applies (GET /orders/applied, in application order), worker_skip_dedup lets duplicates
// through on purpose, and the services log the trace ids of the traceparents they receive.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "demo_cluster.h"
#include "demo_test_helpers.h"

using namespace faultline::testing;
using namespace std::chrono_literals;

namespace {

constexpr const char* kCaptured = R"(charges_total{outcome="captured"})";

std::string order_with_client_id(const std::string& client_order_id, double amount = 12.5) {
  std::ostringstream body;
  body << R"({"user_id": 42, "amount": )" << amount << R"(, "client_order_id": ")"
       << client_order_id << "\"}";
  return body.str();
}

struct Effects {
  std::vector<std::string> applied;
  uint64_t count = 0;
};

Effects admin_effects(const std::string& worker_url) {
  const auto r = http_get(worker_url + "/orders/applied");
  REQUIRE(r.status == 200);
  const auto doc = parse_json(r.body);
  REQUIRE(doc.IsObject());
  REQUIRE(doc["applied"].IsArray());
  Effects e;
  for (const auto& v : doc["applied"].GetArray()) e.applied.emplace_back(v.GetString());
  e.count = doc["count"].GetUint64();
  return e;
}

}  // namespace

TEST_CASE("orders: the same client_order_id creates one order, charges once, enqueues one job") {
  DemoCluster cluster;
  INFO(cluster.logs());
  const std::string url = cluster.api_url() + "/orders";
  const auto first = http_post(url, order_with_client_id("c-1"), {"X-Request-Id: idem-1"});
  REQUIRE(first.status == 201);
  const std::string order_id = parse_json(first.body)["order_id"].GetString();
  CHECK(std::string(parse_json(first.body)["client_order_id"].GetString()) == "c-1");
  for (int i = 0; i < 3; ++i) {
    const auto again = http_post(url, order_with_client_id("c-1"));
    CHECK(again.status == 201);
    CHECK(std::string(parse_json(again.body)["order_id"].GetString()) == order_id);
    CHECK(again.header("Idempotent-Replayed") == "true");
    CHECK(again.header("Location") == "/orders/" + order_id);
  }
  // Another client id is another order.
  const auto other = http_post(url, order_with_client_id("c-2"));
  REQUIRE(other.status == 201);
  const std::string other_id = parse_json(other.body)["order_id"].GetString();
  CHECK(other_id != order_id);
  // The same client id for another amount is refused and changes nothing.
  const auto reused = http_post(url, order_with_client_id("c-1", 99));
  CHECK(reused.status == 422);
  CHECK(std::string(parse_json(reused.body)["field"].GetString()) == "client_order_id");

  CHECK(wait_until([&] { return drained(cluster); }, 5s));
  CHECK(scrape(cluster.payment_url(), kCaptured) == 2);
  CHECK(scrape(cluster.api_url(), "orders_replayed_total") == 3);
  CHECK(cluster.redis().integer({"GET", "orders:effects"}) == 2);
  const Effects effects = admin_effects(cluster.worker_url());
  CHECK(effects.applied == std::vector<std::string>{order_id, other_id});
  CHECK(effects.count == 2);
  CHECK(scrape(cluster.worker_url(), "jobs_effects_applied_total") == 2);
  CHECK(scrape(cluster.worker_url(), "jobs_duplicate_total") == 0);
}

TEST_CASE("orders: a client retry after a failed charge or enqueue keeps the order id") {
  DemoCluster cluster;
  INFO(cluster.logs());
  const std::string url = cluster.api_url() + "/orders";
  // The charge fails: the 502 names the order, the retry charges it under the same id.
  REQUIRE(set_faults(cluster.payment_url(), R"({"payment_fail_rate": 1.0})").status == 200);
  const auto failed = http_post(url, order_with_client_id("c-retry"));
  REQUIRE(failed.status == 502);
  const std::string order_id = parse_json(failed.body)["order_id"].GetString();
  REQUIRE(http_post(cluster.payment_url() + "/__faults/reset", "").status == 200);
  const auto paid = http_post(url, order_with_client_id("c-retry"));
  REQUIRE(paid.status == 201);
  CHECK(std::string(parse_json(paid.body)["order_id"].GetString()) == order_id);
  CHECK(scrape(cluster.payment_url(), kCaptured) == 1);

  // Paid but not queued (Redis down): the retry only enqueues, it does not charge again.
  cluster.stop_redis();
  const auto not_queued = http_post(url, order_with_client_id("c-queue"));
  REQUIRE(not_queued.status == 503);
  const std::string queued_id = parse_json(not_queued.body)["order_id"].GetString();
  CHECK(scrape(cluster.payment_url(), kCaptured) == 2);
  cluster.start_redis();
  REQUIRE(wait_until([&] { return http_get(cluster.api_url() + "/readyz").status == 200; }, 5s));
  const auto queued = http_post(url, order_with_client_id("c-queue"));
  REQUIRE(queued.status == 201);
  CHECK(std::string(parse_json(queued.body)["order_id"].GetString()) == queued_id);
  CHECK(scrape(cluster.payment_url(), kCaptured) == 2);
  CHECK(wait_until([&] { return admin_effects(cluster.worker_url()).count == 1; }, 5s));
  CHECK(admin_effects(cluster.worker_url()).applied == std::vector<std::string>{queued_id});
}

TEST_CASE("orders: a repeat while the first request is still charging gets 409") {
  DemoCluster cluster;
  INFO(cluster.logs());
  REQUIRE(set_faults(cluster.payment_url(), R"({"payment_latency_ms_add": 1500})").status == 200);
  const std::string url = cluster.api_url() + "/orders";
  faultline::HttpResponse first;
  std::thread slow([&] { first = http_post(url, order_with_client_id("c-slow")); });
  // The first request is being handled at the api (in flight there with the scrape that
  // counts it: nothing else calls the api) and is at payment (held by the latency knob) before
  // the repeat goes out. Payment's count alone is not enough: the api's readiness probe of
  // payment is in flight there too at times, and then the repeat could overtake the first.
  const bool charging = wait_until(
      [&] {
        return scrape(cluster.api_url(), "http_requests_in_flight") >= 2 &&
               scrape(cluster.payment_url(), "http_requests_in_flight") >= 2;
      },
      5s);
  const auto repeat = http_post(url, order_with_client_id("c-slow"));
  slow.join();
  REQUIRE(charging);
  CHECK(repeat.status == 409);
  CHECK(repeat.header("Retry-After") == "1");
  REQUIRE(first.status == 201);
  CHECK(std::string(parse_json(repeat.body)["order_id"].GetString()) ==
        parse_json(first.body)["order_id"].GetString());
  CHECK(scrape(cluster.payment_url(), kCaptured) == 1);
}

TEST_CASE("worker: effects are listed in application order, duplicates suppressed or let through") {
  DemoClusterOptions options;
  options.workers = 1;  // one consumer: application order is queue order
  DemoCluster cluster(options);
  INFO(cluster.logs());
  auto& redis = cluster.redis();
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    const auto r = http_post(cluster.api_url() + "/orders", order_body(i),
                             {"X-Request-Id: eff-" + std::to_string(i)});
    REQUIRE(r.status == 201);
    ids.emplace_back(parse_json(r.body)["order_id"].GetString());
  }
  REQUIRE(wait_until([&] { return drained(cluster); }, 5s));
  CHECK(admin_effects(cluster.worker_url()).applied == ids);

  // Duplicate deliveries of the first two orders: suppressed.
  auto redeliver = [&](const std::string& id) {
    redis.command({"LPUSH", "orders:queue", R"({"order_id":")" + id + R"(","attempt":0})"});
  };
  redeliver(ids[0]);
  redeliver(ids[1]);
  REQUIRE(wait_until([&] { return drained(cluster); }, 5s));
  CHECK(scrape(cluster.worker_url(), "jobs_processed_total") == 8);
  CHECK(scrape(cluster.worker_url(), "jobs_effects_applied_total") == 6);
  CHECK(scrape(cluster.worker_url(), "jobs_duplicate_total") == 2);
  CHECK(scrape(cluster.worker_url(), "jobs_duplicate_applied_total") == 0);
  CHECK(admin_effects(cluster.worker_url()).applied == ids);

  // With worker_skip_dedup the planted bug applies them: the list shows the duplicates.
  REQUIRE(set_faults(cluster.worker_url(), R"({"worker_skip_dedup": true})").status == 200);
  redeliver(ids[2]);
  REQUIRE(wait_until([&] { return drained(cluster); }, 5s));
  redeliver(ids[0]);
  REQUIRE(wait_until([&] { return drained(cluster); }, 5s));
  auto expected = ids;
  expected.push_back(ids[2]);
  expected.push_back(ids[0]);
  const Effects effects = admin_effects(cluster.worker_url());
  CHECK(effects.applied == expected);
  CHECK(effects.count == expected.size());
  CHECK(redis.integer({"GET", "orders:effects"}) == static_cast<long long>(expected.size()));
  CHECK(scrape(cluster.worker_url(), "jobs_effects_applied_total") == 8);
  CHECK(scrape(cluster.worker_url(), "jobs_duplicate_applied_total") == 2);
  CHECK(scrape(cluster.worker_url(), "jobs_duplicate_total") == 2);
  CHECK(scrape(cluster.worker_url(), "jobs_processed_total") == 10);
}

TEST_CASE("logs: api, payment and worker log the trace id of the traceparent they receive") {
  DemoClusterOptions options;
  options.extra_api_args = {"--access-log"};
  options.extra_payment_args = {"--access-log"};
  options.extra_worker_args = {"--access-log"};
  DemoCluster cluster(options);
  INFO(cluster.logs());
  const std::string trace_id = "632a3645102a3d4bfc59999de598f210";
  const std::string traceparent = "traceparent: 00-" + trace_id + "-f01dadc059856bb9-01";
  const auto ok =
      http_post(cluster.api_url() + "/orders", order_body(1), {"X-Request-Id: tr-1", traceparent});
  REQUIRE(ok.status == 201);
  const std::string failing_trace = "0af7651916cd43dd8448eb211c80319c";
  CHECK(
      http_get(cluster.api_url() + "/users/0",
               {"X-Request-Id: tr-2", "traceparent: 00-" + failing_trace + "-b7ad6b7169203331-01"})
          .status == 404);
  // An invalid traceparent is not logged as a trace.
  CHECK(http_get(cluster.api_url() + "/users/1",
                 {"X-Request-Id: tr-3",
                  "traceparent: 00-" + std::string(32, '0') + "-b7ad6b7169203331-01"})
            .status == 200);
  REQUIRE(wait_until([&] { return drained(cluster); }, 5s));
  auto has = [](const std::string& log, const std::string& part) {
    return log.find(part) != std::string::npos;
  };
  // A request's access-log line is written after its response: wait for the last one.
  std::string api, payment;
  wait_until(
      [&] {
        api = read_text(cluster.log_dir() + "/api.log");
        payment = read_text(cluster.log_dir() + "/payment.log");
        return has(api, "request_id=tr-3 ") && has(payment, "request_id=tr-1 ");
      },
      5s);
  CHECK(has(api, "event=request request_id=tr-1 method=POST route=/orders status=201"));
  CHECK(has(api, "trace_id=" + trace_id + "\n"));
  CHECK(has(api, "event=request_rejected request_id=tr-2 "));
  CHECK(has(api, "trace_id=" + failing_trace + "\n"));
  CHECK(has(payment, "event=request request_id=tr-1 "));
  CHECK(has(payment, "trace_id=" + trace_id + "\n"));
  const auto tr3 = api.find("event=request request_id=tr-3 ");
  REQUIRE(tr3 != std::string::npos);
  CHECK(api.substr(tr3, api.find('\n', tr3) - tr3).find("trace_id") == std::string::npos);
  // The worker's log for the order's job (the first worker start logs to worker-1.log).
  CHECK(wait_until(
      [&] {
        const std::string worker = read_text(cluster.log_dir() + "/worker-1.log");
        return has(worker, "event=job_done") && has(worker, "request_id=tr-1") &&
               has(worker, "trace_id=" + trace_id + "\n");
      },
      5s));
}

TEST_CASE("worker: GET /orders/applied is guarded like /__faults (only with --faults, token)") {
  {
    DemoClusterOptions options;
    options.fault_token = "tok";
    DemoCluster cluster(options);
    CHECK(http_get(cluster.worker_url() + "/orders/applied").status == 401);
    CHECK(
        http_get(cluster.worker_url() + "/orders/applied", {"Authorization: Bearer nope"}).status ==
        401);
    const auto ok =
        http_get(cluster.worker_url() + "/orders/applied", {"Authorization: Bearer tok"});
    CHECK(ok.status == 200);
    CHECK(parse_json(ok.body)["count"].GetUint64() == 0);
  }
  {
    DemoClusterOptions options;
    options.faults = false;
    DemoCluster cluster(options);
    CHECK(http_get(cluster.worker_url() + "/orders/applied").status == 404);
  }
}
