// Every endpoint of every role over real processes, bad input, and promtool on /metrics.
#include <doctest/doctest.h>

#include <string>

#include "demo_cluster.h"
#include "demo_test_helpers.h"

using namespace faultline::testing;

namespace {

bool healthy(const std::string& url) {
  return http_get(url + "/healthz").status == 200;
}

}  // namespace

TEST_CASE("endpoints: health, readiness, business routes and request ids") {
  DemoCluster cluster;
  INFO(cluster.logs());
  for (const auto& url : {cluster.api_url(), cluster.payment_url(), cluster.worker_url()}) {
    CHECK(http_get(url + "/healthz").status == 200);
    const auto ready = http_get(url + "/readyz");
    CHECK(ready.status == 200);
    CHECK(parse_json(ready.body)["ready"].GetBool());
    const auto metrics = http_get(url + "/metrics");
    CHECK(metrics.status == 200);
    CHECK(metrics.header("Content-Type").find("version=0.0.4") != std::string::npos);
    CHECK(http_get(url + "/__faults").status == 200);
  }

  // GET /users/{id}: known, unknown, malformed; the request id is echoed or generated.
  auto user = http_get(cluster.api_url() + "/users/42", {"X-Request-Id: req-42"});
  CHECK(user.status == 200);
  CHECK(user.header("X-Request-Id") == "req-42");
  CHECK(parse_json(user.body)["id"].GetInt() == 42);
  CHECK(http_get(cluster.api_url() + "/users/0").status == 404);
  auto bad_user = http_get(cluster.api_url() + "/users/abc");
  CHECK(bad_user.status == 400);
  CHECK(bad_user.header("X-Request-Id").rfind("api-", 0) == 0);  // generated: role + counter
  CHECK(bad_user.header("Content-Type") == "application/problem+json");

  // POST /orders then GET /orders/{id}.
  auto created = http_post(cluster.api_url() + "/orders", R"({"user_id": "u-7", "amount": 19.99})",
                           {"X-Request-Id: order-req-1"});
  REQUIRE(created.status == 201);
  auto order = parse_json(created.body);
  const std::string order_id = order["order_id"].GetString();
  CHECK(std::string(order["status"].GetString()) == "queued");
  CHECK(std::string(order["request_id"].GetString()) == "order-req-1");
  auto fetched = http_get(cluster.api_url() + "/orders/" + order_id);
  CHECK(fetched.status == 200);
  CHECK(std::string(parse_json(fetched.body)["order_id"].GetString()) == order_id);
  CHECK(http_get(cluster.api_url() + "/orders/no-such-order").status == 404);
  // The worker processes it: one effect, the done mark is set.
  CHECK(wait_until(
      [&] {
        return cluster.redis().integer({"GET", "orders:effects"}) == 1;
      },
      std::chrono::seconds(5)));
  CHECK(cluster.redis().integer({"EXISTS", "orders:done:" + order_id}) == 1);

  // POST /charge directly on payment.
  auto charge = http_post(cluster.payment_url() + "/charge", R"({"order_id": "o-1", "amount": 5})",
                          {"X-Request-Id: c-1"});
  CHECK(charge.status == 200);
  CHECK(std::string(parse_json(charge.body)["status"].GetString()) == "captured");

  // Unknown path, wrong method: JSON problems.
  auto missing = http_get(cluster.api_url() + "/nope");
  CHECK(missing.status == 404);
  CHECK(parse_json(missing.body)["status"].GetInt() == 404);
  auto wrong_method = http_get(cluster.api_url() + "/orders");
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.header("Allow") == "POST");
  CHECK(http_post(cluster.api_url() + "/healthz", "{}").status == 405);
  // A request id that is not printable ASCII is refused, with a fresh id echoed.
  auto bad_id =
      http_get(cluster.api_url() + "/users/1", {"X-Request-Id: " + std::string(201, 'x')});
  CHECK(bad_id.status == 400);
  CHECK(bad_id.header("X-Request-Id").rfind("api-", 0) == 0);

  // The route label is the template, never the raw path.
  const std::string exposition = http_get(cluster.api_url() + "/metrics").body;
  CHECK(metric_value(exposition,
                     R"(http_requests_total{route="/users/{id}",method="GET",status="200"})")
            .value_or(0) >= 1);
  CHECK(exposition.find("/users/42") == std::string::npos);
  CHECK(
      metric_value(exposition, R"(http_requests_total{route="/orders",method="POST",status="201"})")
          .value_or(0) == 1);
}

TEST_CASE("endpoints: malformed JSON, missing fields and oversized bodies get 4xx, service lives") {
  DemoClusterOptions options;
  options.extra_api_args = {"--max-body", "1KiB"};
  options.extra_payment_args = {"--max-body", "1KiB"};
  options.extra_worker_args = {"--max-body", "1KiB"};
  DemoCluster cluster(options);
  INFO(cluster.logs());
  const std::string big(4096, 'x');
  const std::string huge =
      "{\"user_id\": 1, \"amount\": 1, \"pad\": \"" + std::string(300000, 'y') + "\"}";
  struct Target {
    std::string base;
    std::string path;
  };
  const Target posts[] = {
      {cluster.api_url(), "/orders"},      {cluster.payment_url(), "/charge"},
      {cluster.api_url(), "/__faults"},    {cluster.payment_url(), "/__faults"},
      {cluster.worker_url(), "/__faults"}, {cluster.api_url(), "/__faults/reset"}};
  for (const auto& t : posts) {
    CAPTURE(t.base + t.path);
    if (t.path != "/__faults/reset") {
      for (const char* bad : {"{", "not json", "[1,2]", "{\"a\":}", "", "\"str\"", "{} {}"}) {
        CAPTURE(bad);
        auto r = http_post(t.base + t.path, bad);
        CHECK(r.status == 400);
        auto problem = parse_json(r.body);
        REQUIRE(problem.IsObject());
        CHECK(problem["status"].GetInt() == 400);
        CHECK(problem.HasMember("type"));
        CHECK(problem.HasMember("title"));
        CHECK(problem.HasMember("detail"));
      }
    }
    auto too_big = http_post(t.base + t.path, big);
    CHECK(too_big.status == 413);
    CHECK(parse_json(too_big.body)["status"].GetInt() == 413);
    // Much larger than the limit, with and without "Expect: 100-continue".
    CHECK(http_post(t.base + t.path, huge, {"Expect: 100-continue"}).status == 413);
    CHECK(http_post(t.base + t.path, huge, {"Expect:"}).status == 413);
    CHECK(healthy(t.base));
  }
  // Field validation on the business endpoints names the field.
  auto no_amount = http_post(cluster.api_url() + "/orders", R"({"user_id": 1})");
  CHECK(no_amount.status == 400);
  CHECK(std::string(parse_json(no_amount.body)["field"].GetString()) == "amount");
  auto bad_amount = http_post(cluster.api_url() + "/orders", R"({"user_id": 1, "amount": -3})");
  CHECK(bad_amount.status == 400);
  auto bad_user = http_post(cluster.api_url() + "/orders", R"({"user_id": [1], "amount": 3})");
  CHECK(bad_user.status == 400);
  CHECK(std::string(parse_json(bad_user.body)["field"].GetString()) == "user_id");
  CHECK(http_post(cluster.payment_url() + "/charge", R"({"amount": 3})").status == 400);
  // Nothing above was queued.
  CHECK(cluster.redis().integer({"LLEN", "orders:queue"}) == 0);
  CHECK(cluster.redis().integer({"GET", "orders:effects"}) == 0);
  for (const auto& url : {cluster.api_url(), cluster.payment_url(), cluster.worker_url()})
    CHECK(healthy(url));
  CHECK(cluster.api_process().running());
  CHECK(cluster.payment_process().running());
  CHECK(cluster.worker_process().running());
}

TEST_CASE("endpoints: every role's /metrics passes promtool check metrics after traffic") {
  DemoClusterOptions options;
  options.payment_retries = 1;
  DemoCluster cluster(options);
  INFO(cluster.logs());
  REQUIRE(set_faults(cluster.payment_url(), R"({"payment_fail_rate": 0.3})").status == 200);
  REQUIRE(set_faults(cluster.worker_url(), R"({"worker_fail_rate": 0.2})").status == 200);
  for (int i = 0; i < 40; ++i) {
    http_post(cluster.api_url() + "/orders", order_body(i),
              {"X-Request-Id: prom-" + std::to_string(i)});
    http_get(cluster.api_url() + "/users/" + std::to_string(i));
  }
  http_get(cluster.api_url() + "/nope");
  http_post(cluster.api_url() + "/orders", "{");
  // Let the worker drain the queue (retries and dead letters included).
  CHECK(wait_until([&] { return scrape(cluster.worker_url(), "queue_depth") == 0; },
                   std::chrono::seconds(10)));
  for (const auto& url : {cluster.api_url(), cluster.payment_url(), cluster.worker_url()}) {
    CAPTURE(url);
    const std::string exposition = http_get(url + "/metrics").body;
    int rc = -1;
    const std::string out = promtool_check_metrics(exposition, &rc);
    CHECK_MESSAGE(rc == 0, out);
    CHECK_MESSAGE(out.empty(), out);
    for (const char* family :
         {"http_request_duration_seconds_bucket", "http_requests_total", "http_requests_in_flight",
          "worker_pool_saturation_ratio", "service_ready", "fault_knob_value"})
      CHECK_MESSAGE(exposition.find(family) != std::string::npos, family);
  }
  const std::string api = http_get(cluster.api_url() + "/metrics").body;
  for (const char* series :
       {R"(dep_call_duration_seconds_count{dependency="db",outcome="ok"})",
        R"(dep_call_duration_seconds_count{dependency="payment",outcome="ok"})",
        R"(dep_call_duration_seconds_count{dependency="payment",outcome="error"})",
        R"(dep_call_duration_seconds_count{dependency="redis",outcome="ok"})",
        R"(dep_retries_total{dependency="payment"})"})
    CHECK_MESSAGE(metric_value(api, series).value_or(0) > 0, series);
  const std::string worker = http_get(cluster.worker_url() + "/metrics").body;
  for (const char* series :
       {"jobs_processed_total", "jobs_failed_total", "jobs_retried_total",
        "jobs_dead_lettered_total", "job_duration_seconds_count", "job_queue_wait_seconds_count"})
    CHECK_MESSAGE(metric_value(worker, series).value_or(0) > 0, series);
  CHECK(metric_value(worker, "queue_depth").has_value());
  CHECK(metric_value(worker, "dead_letter_queue_depth").value_or(0) ==
        metric_value(worker, "jobs_dead_lettered_total").value_or(-1));
}
