// The runtime levers over HTTP (demo-services/faults/levers.h): GET/PUT/DELETE /__levers, the
// guard they share with /__faults, and what each api and worker lever does to real requests.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/targeting.h"
#include "demo_cluster.h"
#include "demo_test_helpers.h"

using namespace faultline::testing;
using namespace std::chrono_literals;
using faultline::HttpResponse;

namespace {

HttpResponse lever_call(const std::string& method, const std::string& base_url,
                        const std::string& body = "", std::vector<std::string> headers = {}) {
  faultline::HttpRequest r;
  r.method = method;
  r.url = base_url + "/__levers";
  r.body = body;
  r.headers = std::move(headers);
  if (!body.empty()) r.headers.push_back("Content-Type: application/json");
  return faultline::http_call(r);
}

HttpResponse put_levers(const std::string& base_url, const std::string& json) {
  return lever_call("PUT", base_url, json);
}

// The active value of a lever as GET /__levers reports it (booleans as 0/1).
double lever(const std::string& base_url, const char* name) {
  const auto r = lever_call("GET", base_url);
  REQUIRE(r.status == 200);
  const auto d = parse_json(r.body);
  const auto& v = d["active"][name];
  return v.IsBool() ? (v.GetBool() ? 1.0 : 0.0) : v.GetDouble();
}

struct Timed {
  HttpResponse response;
  std::chrono::milliseconds elapsed;
};

Timed timed_order(const std::string& api_url, int i) {
  const auto start = std::chrono::steady_clock::now();
  HttpResponse r = http_post(api_url + "/orders", order_body(i));
  return {std::move(r), std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start)};
}

DemoClusterOptions no_worker() {
  DemoClusterOptions options;
  options.start_worker = false;
  return options;
}

}  // namespace

TEST_CASE("levers: defaults are the start-up flags, PUT merges, DELETE restores them") {
  DemoClusterOptions options = no_worker();
  options.payment_timeout = "1500ms";
  options.payment_retries = 2;
  options.extra_api_args = {"--payment-hedge-after", "150ms"};
  DemoCluster cluster(options);
  INFO(cluster.logs());
  const std::string api = cluster.api_url();

  auto got = lever_call("GET", api);
  REQUIRE(got.status == 200);
  auto d = parse_json(got.body);
  CHECK(d["role"].GetString() == std::string("api"));
  CHECK(d["baseline"].GetBool());
  CHECK(d["active"]["payment_timeout_ms"].GetInt64() == 1500);
  CHECK(d["active"]["payment_retries"].GetInt64() == 2);
  CHECK(d["active"]["payment_hedge_after_ms"].GetInt64() == 150);
  CHECK(d["active"]["max_in_flight_orders"].GetInt64() == 0);
  CHECK_FALSE(d["active"]["payment_kill_switch"].GetBool());

  auto set = put_levers(api, R"({"payment_timeout_ms": 300, "payment_retries": 0})");
  REQUIRE(set.status == 200);
  d = parse_json(set.body);
  CHECK_FALSE(d["baseline"].GetBool());
  CHECK(d["active"]["payment_timeout_ms"].GetInt64() == 300);
  CHECK(d["active"]["payment_retries"].GetInt64() == 0);
  CHECK(d["active"]["payment_hedge_after_ms"].GetInt64() == 150);  // untouched: merged
  CHECK(scrape(api, R"(lever_value{lever="payment_timeout_ms"})") == 300);
  CHECK(scrape(api, R"(lever_changes_total{action="set"})") == 1);

  // All-or-nothing: one bad member and nothing changes.
  auto bad = put_levers(api, R"({"payment_retries": 1, "payment_retry": 3})");
  CHECK(bad.status == 400);
  CHECK(parse_json(bad.body)["lever"].GetString() == std::string("payment_retry"));
  CHECK(bad.body.find("did you mean payment_retries") != std::string::npos);
  CHECK(lever(api, "payment_retries") == 0);
  CHECK(put_levers(api, R"({"payment_retries": -1})").status == 400);
  CHECK(put_levers(api, R"({"payment_kill_switch": 1})").status == 400);
  CHECK(scrape(api, R"(lever_changes_total{action="rejected"})") == 3);

  auto reset = lever_call("DELETE", api);
  REQUIRE(reset.status == 200);
  d = parse_json(reset.body);
  CHECK(d["baseline"].GetBool());
  CHECK(d["active"]["payment_timeout_ms"].GetInt64() == 1500);
  CHECK(d["active"]["payment_retries"].GetInt64() == 2);
}

TEST_CASE("levers: a lease reverts them to the start-up values on its own") {
  DemoCluster cluster(no_worker());
  INFO(cluster.logs());
  REQUIRE(put_levers(cluster.api_url(), R"({"payment_kill_switch": true, "ttl_ms": 300})").status ==
          200);
  CHECK(lever(cluster.api_url(), "payment_kill_switch") == 1);
  CHECK(wait_until([&] { return lever(cluster.api_url(), "payment_kill_switch") == 0; }, 3000ms));
  CHECK(timed_order(cluster.api_url(), 1).response.status == 201);
}

TEST_CASE("levers: guarded like /__faults - token, production mode, no --faults") {
  {
    DemoClusterOptions options = no_worker();
    options.fault_token = "s3cret";
    DemoCluster cluster(options);
    INFO(cluster.logs());
    CHECK(lever_call("GET", cluster.api_url()).status == 401);
    CHECK(lever_call("PUT", cluster.api_url(), R"({"payment_retries": 1})").status == 401);
    CHECK(lever_call("DELETE", cluster.api_url()).status == 401);
    CHECK(lever_call("GET", cluster.api_url(), "", {"Authorization: Bearer s3cret"}).status == 200);
    CHECK(lever_call("PUT", cluster.api_url(), R"({"payment_retries": 1})",
                     {"Authorization: Bearer s3cret"})
              .status == 200);
  }
  {
    DemoClusterOptions options = no_worker();
    options.production = true;
    DemoCluster cluster(options);
    INFO(cluster.logs());
    CHECK(lever_call("GET", cluster.api_url()).status == 404);
    CHECK(lever_call("PUT", cluster.api_url(), R"({"payment_retries": 1})").status == 404);
  }
  {
    DemoClusterOptions options = no_worker();
    options.faults = false;
    DemoCluster cluster(options);
    INFO(cluster.logs());
    CHECK(lever_call("GET", cluster.api_url()).status == 404);
    CHECK(lever_call("DELETE", cluster.api_url()).status == 404);
  }
}

TEST_CASE("levers: payment_kill_switch answers 503 at once and charges nothing") {
  DemoCluster cluster(no_worker());
  INFO(cluster.logs());
  const std::string api = cluster.api_url();
  REQUIRE(timed_order(api, 1).response.status == 201);
  const double captured = scrape(cluster.payment_url(), R"(charges_total{outcome="captured"})");
  REQUIRE(captured == 1);

  REQUIRE(put_levers(api, R"({"payment_kill_switch": true})").status == 200);
  const auto off = timed_order(api, 2);
  CHECK(off.response.status == 503);
  CHECK(off.response.body.find("payment-disabled") != std::string::npos);
  CHECK(scrape(cluster.payment_url(), R"(charges_total{outcome="captured"})") == captured);
  CHECK(scrape(api, R"(requests_shed_total{reason="kill_switch"})") == 1);

  REQUIRE(lever_call("DELETE", api).status == 200);
  CHECK(timed_order(api, 3).response.status == 201);
}

TEST_CASE("levers: a tighter payment_timeout_ms cuts a slow charge short") {
  DemoCluster cluster(no_worker());  // --payment-timeout 2s
  INFO(cluster.logs());
  const std::string api = cluster.api_url();
  REQUIRE(set_faults(cluster.payment_url(), R"({"payment_latency_ms_add": 600})").status == 200);
  const auto slow = timed_order(api, 1);
  CHECK(slow.response.status == 201);
  CHECK(slow.elapsed >= 600ms);

  REQUIRE(put_levers(api, R"({"payment_timeout_ms": 100})").status == 200);
  const auto cut = timed_order(api, 2);
  CHECK(cut.response.status == 504);
  CHECK(cut.elapsed < 500ms);
  CHECK(scrape(api, R"(dep_call_duration_seconds_count{dependency="payment",outcome="timeout"})") ==
        1);

  // Back to the start-up timeout: slow but served again.
  REQUIRE(lever_call("DELETE", api).status == 200);
  CHECK(timed_order(api, 3).response.status == 201);
}

TEST_CASE("levers: payment_hedge_after_ms turned on at runtime hedges exactly the slow charges") {
  DemoCluster cluster(no_worker());
  INFO(cluster.logs());
  const std::string api = cluster.api_url();
  // 30% of charges (by request id) take 400 ms longer. A hedge ("<id>~h1") is a fresh draw.
  REQUIRE(set_faults(cluster.payment_url(),
                     R"({"payment_latency_ms_add": 400, "payment_latency_pct": 30})")
              .status == 200);
  auto order = [&](int i) {
    return http_post(api + "/orders", order_body(i), {"X-Request-Id: h-" + std::to_string(i)});
  };
  for (int i = 0; i < 6; ++i) REQUIRE(order(i).status == 201);
  CHECK(scrape(api, R"(dep_hedges_total{dependency="payment"})") == 0);  // off at start-up

  REQUIRE(put_levers(api, R"({"payment_hedge_after_ms": 50})").status == 200);
  int slow = 0;
  for (int i = 6; i < 30; ++i) {
    slow += faultline::targeting_hit("payment_latency_pct", "h-" + std::to_string(i), 0.3);
    REQUIRE(order(i).status == 201);
  }
  REQUIRE(slow >= 1);
  // Each slow first attempt (past 50 ms) got its hedge; no fast one did.
  CHECK(scrape(api, R"(dep_hedges_total{dependency="payment"})") == slow);
}

TEST_CASE("levers: max_in_flight_orders sheds the orders beyond it with 503 overloaded") {
  DemoCluster cluster(no_worker());
  INFO(cluster.logs());
  const std::string api = cluster.api_url();
  REQUIRE(set_faults(cluster.payment_url(), R"({"payment_latency_ms_add": 400})").status == 200);
  REQUIRE(put_levers(api, R"({"max_in_flight_orders": 1})").status == 200);
  std::vector<Timed> answers(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { answers[i] = timed_order(api, i); });
  for (auto& t : threads) t.join();
  int created = 0, shed = 0;
  for (const auto& a : answers) {
    if (a.response.status == 201) ++created;
    if (a.response.status == 503 && a.response.body.find("overloaded") != std::string::npos) {
      ++shed;
      CHECK(a.elapsed < 300ms);  // refused at once, not after the slow charge
    }
  }
  CHECK(created >= 1);
  CHECK(shed >= 1);
  CHECK(created + shed == 4);
  CHECK(scrape(api, R"(requests_shed_total{reason="overload"})") == shed);
}

TEST_CASE("levers: worker_max_retries 0 dead-letters a failing job on its first attempt") {
  DemoClusterOptions options;
  options.max_retries = 3;
  DemoCluster cluster(options);
  INFO(cluster.logs());
  const std::string worker = cluster.worker_url();
  CHECK(lever(worker, "worker_max_retries") == 3);
  REQUIRE(set_faults(worker, R"({"worker_fail_rate": 1.0})").status == 200);
  REQUIRE(put_levers(worker, R"({"worker_max_retries": 0})").status == 200);
  REQUIRE(timed_order(cluster.api_url(), 1).response.status == 201);
  CHECK(wait_until([&] { return scrape(worker, "jobs_dead_lettered_total") == 1; }, 5000ms));
  CHECK(scrape(worker, "jobs_failed_total") == 1);
  CHECK(scrape(worker, "jobs_retried_total") == 0);
}

TEST_CASE("levers: the payment role has an empty catalog") {
  DemoCluster cluster(no_worker());
  INFO(cluster.logs());
  const auto got = lever_call("GET", cluster.payment_url());
  REQUIRE(got.status == 200);
  const auto d = parse_json(got.body);
  CHECK(d["catalog"].Size() == 0);
  CHECK(put_levers(cluster.payment_url(), R"({"payment_retries": 1})").status == 400);
}
