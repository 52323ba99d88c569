// The fault contract over HTTP: deterministic targeting, retries as independent draws, leases,
// validation, the guard, and what each knob does.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/targeting.h"
#include "demo_cluster.h"
#include "demo_test_helpers.h"

using namespace faultline::testing;
using namespace std::chrono_literals;

namespace {

// Sends POST /orders with X-Request-Id <prefix><i> for i in [0, n) from `threads` threads and
// returns the ids whose answer was not 201. Every answer must be a 201 or `failure_status`.
std::set<std::string> failed_order_ids(const std::string& api_url, const std::string& prefix, int n,
                                       int threads, long failure_status) {
  std::set<std::string> failed;
  int unexpected = 0;
  for (const auto& answer : send_orders(api_url, prefix, n, threads)) {
    if (answer.status == 201) continue;
    if (answer.status != failure_status) ++unexpected;
    failed.insert(answer.id);
  }
  CHECK(unexpected == 0);
  return failed;
}

DemoClusterOptions no_worker() {
  DemoClusterOptions options;
  options.start_worker = false;
  return options;
}

bool at_baseline(const std::string& url, std::vector<std::string> headers = {}) {
  auto r = http_get(url + "/__faults", std::move(headers));
  if (r.status != 200) return false;
  auto d = parse_json(r.body);
  return d.IsObject() && d["baseline"].GetBool() && d["lease"]["expires_in_ms"].IsNull();
}

}  // namespace

TEST_CASE("faults: payment_fail_rate hits the same request ids on every run") {
  DemoClusterOptions options;
  options.workers = 4;
  DemoCluster cluster(options);
  INFO(cluster.logs());
  auto set = set_faults(cluster.payment_url(), R"({"payment_fail_rate": 0.2})");
  REQUIRE(set.status == 200);
  CHECK(parse_json(set.body)["active"]["payment_fail_rate"].GetDouble() == 0.2);

  const auto first = failed_order_ids(cluster.api_url(), "t-", 1000, 8, 502);
  const auto second = failed_order_ids(cluster.api_url(), "t-", 1000, 8, 502);
  CHECK(first == second);
  CHECK(first.size() >= 150);
  CHECK(first.size() <= 250);
  // And they are exactly the ids the documented algorithm selects.
  std::set<std::string> predicted;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "t-" + std::to_string(i);
    if (faultline::targeting_hit("payment_fail_rate", id, 0.2)) predicted.insert(id);
  }
  CHECK(first == predicted);
  CHECK(scrape(cluster.payment_url(), R"(charges_total{outcome="failed"})") ==
        static_cast<double>(2 * predicted.size()));
}

TEST_CASE("faults: a retry to payment is an independent draw with id <id>~<n>") {
  DemoClusterOptions options;
  options.payment_retries = 2;
  options.start_worker = false;
  DemoCluster cluster(options);
  INFO(cluster.logs());
  REQUIRE(set_faults(cluster.payment_url(), R"({"payment_fail_rate": 0.5})").status == 200);
  const auto failed = failed_order_ids(cluster.api_url(), "r-", 200, 4, 502);
  // An order fails only when the first attempt and both retries are hit.
  std::set<std::string> predicted;
  int attempts = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string id = "r-" + std::to_string(i);
    int n = 0;
    while (n < 3 && faultline::targeting_hit("payment_fail_rate",
                                             n == 0 ? id : id + "~" + std::to_string(n), 0.5))
      ++n;
    attempts += std::min(n + 1, 3);
    if (n == 3) predicted.insert(id);
  }
  CHECK(failed == predicted);
  CHECK(!failed.empty());
  CHECK(scrape(cluster.api_url(),
               R"(dep_call_duration_seconds_count{dependency="payment",outcome="ok"})") +
            scrape(cluster.api_url(),
                   R"(dep_call_duration_seconds_count{dependency="payment",outcome="error"})") ==
        attempts);
}

TEST_CASE("faults: a ttl_ms lease reverts by itself and a renewal keeps it") {
  DemoCluster cluster(no_worker());
  INFO(cluster.logs());
  const std::string url = cluster.payment_url();
  auto set = set_faults(url, R"({"payment_fail_rate": 0.2, "ttl_ms": 400})");
  REQUIRE(set.status == 200);
  auto state = parse_json(set.body);
  CHECK_FALSE(state["baseline"].GetBool());
  CHECK(state["lease"]["expires_in_ms"].GetInt64() > 0);
  CHECK(state["lease"]["expires_in_ms"].GetInt64() <= 400);
  CHECK(wait_until([&] { return at_baseline(url); }, 5s));
  // The lease watcher reports the expiry (and logs it) within its 50 ms tick.
  CHECK(wait_until(
      [&] { return scrape(url, R"(fault_changes_total{action="lease_expired"})") == 1; }, 2s));
  CHECK(scrape(url, R"(fault_knob_value{knob="payment_fail_rate"})") == 0);

  // Renewed every 100 ms for about a second: still active; then left alone: reverts.
  REQUIRE(set_faults(url, R"({"payment_latency_ms_add": 5, "ttl_ms": 300})").status == 200);
  const auto until = std::chrono::steady_clock::now() + 1000ms;
  while (std::chrono::steady_clock::now() < until) {
    REQUIRE(set_faults(url, R"({"ttl_ms": 300})").status == 200);
    CHECK_FALSE(at_baseline(url));
    std::this_thread::sleep_for(100ms);
  }
  CHECK_FALSE(at_baseline(url));
  CHECK(wait_until([&] { return at_baseline(url); }, 5s));
}

TEST_CASE("faults: invalid requests are refused whole, naming the knob - reset restores baseline") {
  DemoCluster cluster(no_worker());
  INFO(cluster.logs());
  const std::string url = cluster.payment_url();
  auto bad = set_faults(url, R"({"payment_fail_rate": 0.2, "payment_fail_rat": 0.1})");
  CHECK(bad.status == 400);
  CHECK(std::string(parse_json(bad.body)["knob"].GetString()) == "payment_fail_rat");
  CHECK(at_baseline(url));
  auto range = set_faults(url, R"({"payment_fail_rate": 2})");
  CHECK(range.status == 400);
  CHECK(std::string(parse_json(range.body)["knob"].GetString()) == "payment_fail_rate");
  CHECK(set_faults(url, R"({"force_timeout": "yes"})").status == 400);
  CHECK(set_faults(url, R"({"payment_latency_ms_add": 2.5})").status == 400);
  CHECK(set_faults(cluster.api_url(), R"({"payment_fail_rate": 0.1})").status == 400);
  CHECK(at_baseline(url));
  CHECK(at_baseline(cluster.api_url()));

  // The catalog describes every knob.
  auto doc = parse_json(http_get(url + "/__faults").body);
  REQUIRE(doc["catalog"].IsArray());
  std::set<std::string> names;
  for (const auto& k : doc["catalog"].GetArray()) {
    names.insert(k["name"].GetString());
    CHECK(k.HasMember("type"));
    CHECK(k.HasMember("default"));
    CHECK(k.HasMember("meaning"));
  }
  CHECK(names == std::set<std::string>{"db_latency_ms_add", "db_latency_tail_pct", "db_fail_rate",
                                       "payment_fail_rate", "payment_latency_ms_add",
                                       "payment_latency_pct", "force_timeout"});

  REQUIRE(set_faults(url, R"({"payment_fail_rate": 1, "db_latency_ms_add": 3})").status == 200);
  CHECK(http_post(url + "/charge", R"({"order_id": "o", "amount": 1})").status == 502);
  auto reset = http_post(url + "/__faults/reset", "");
  CHECK(reset.status == 200);
  CHECK(parse_json(reset.body)["baseline"].GetBool());
  CHECK(http_post(url + "/charge", R"({"order_id": "o", "amount": 1})").status == 200);
}

TEST_CASE("faults: the guard - token, production mode, not enabled") {
  const TempDir tmp("guard");
  const std::string& logs = tmp.path();
  {
    auto svc = start_demo_service("payment", {"--faults", "--fault-token", "s3cret"},
                                  {{"APP_ENV", "test"}}, logs + "/token.log");
    CHECK(http_get(svc.url + "/__faults").status == 401);
    CHECK(http_get(svc.url + "/__faults", {"Authorization: Bearer wrong"}).status == 401);
    CHECK(http_get(svc.url + "/__faults", {"Authorization: Bearer s3cret"}).status == 200);
    CHECK(set_faults(svc.url, R"({"payment_fail_rate": 1})").status == 401);
    CHECK(set_faults(svc.url, R"({"payment_fail_rate": 1})", {"Authorization: Bearer s3cre"})
              .status == 401);
    CHECK(http_post(svc.url + "/__faults/reset", "").status == 401);
    CHECK(at_baseline(svc.url, {"Authorization: Bearer s3cret"}));
    CHECK(set_faults(svc.url, R"({"payment_fail_rate": 1})", {"Authorization: Bearer s3cret"})
              .status == 200);
    CHECK(http_post(svc.url + "/charge", R"({"order_id": "o", "amount": 1})").status == 502);
  }
  {
    auto svc = start_demo_service("payment", {"--faults", "--fault-token", "s3cret"},
                                  {{"APP_ENV", "production"}}, logs + "/production.log");
    CHECK(http_get(svc.url + "/__faults", {"Authorization: Bearer s3cret"}).status == 404);
    CHECK(set_faults(svc.url, R"({"payment_fail_rate": 1})", {"Authorization: Bearer s3cret"})
              .status == 404);
    CHECK(http_post(svc.url + "/__faults/reset", "", {"Authorization: Bearer s3cret"}).status ==
          404);
    CHECK(http_post(svc.url + "/charge", R"({"order_id": "o", "amount": 1})").status == 200);
  }
  {
    auto svc = start_demo_service("payment", {}, {{"APP_ENV", "test"}, {"DEMO_FAULTS", "0"}},
                                  logs + "/off.log");
    CHECK(http_get(svc.url + "/__faults").status == 404);
    CHECK(set_faults(svc.url, R"({"payment_fail_rate": 1})").status == 404);
    CHECK(http_post(svc.url + "/__faults/reset", "").status == 404);
  }
  {
    // DEMO_FAULTS=1 enables them without the flag.
    auto svc = start_demo_service("payment", {}, {{"APP_ENV", "test"}, {"DEMO_FAULTS", "1"}},
                                  logs + "/env.log");
    CHECK(http_get(svc.url + "/__faults").status == 200);
  }
}

TEST_CASE("faults: latency knobs hit exactly the targeted share of requests") {
  DemoCluster cluster(no_worker());
  INFO(cluster.logs());
  REQUIRE(set_faults(cluster.api_url(), R"({"db_latency_ms_add": 600, "db_latency_tail_pct": 50})")
              .status == 200);
  REQUIRE(set_faults(cluster.payment_url(),
                     R"({"payment_latency_ms_add": 600, "payment_latency_pct": 50})")
              .status == 200);
  struct Sample {
    std::string id;
    bool slow_user = false;
    bool slow_charge = false;
  };
  std::vector<Sample> samples(12);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < samples.size(); ++i) {
    samples[i].id = "lat-" + std::to_string(i);
    threads.emplace_back([&, i] {
      auto& s = samples[i];
      auto user = http_get(cluster.api_url() + "/users/7", {"X-Request-Id: " + s.id});
      CHECK(user.status == 200);
      s.slow_user = user.elapsed >= 590ms;
      auto charge = http_post(cluster.payment_url() + "/charge",
                              R"({"order_id": "o", "amount": 1})", {"X-Request-Id: " + s.id});
      CHECK(charge.status == 200);
      s.slow_charge = charge.elapsed >= 590ms;
    });
  }
  for (auto& t : threads) t.join();
  int slow = 0;
  for (const auto& s : samples) {
    CAPTURE(s.id);
    CHECK(s.slow_user == faultline::targeting_hit("db_latency_tail_pct", s.id, 0.5));
    CHECK(s.slow_charge == faultline::targeting_hit("payment_latency_pct", s.id, 0.5));
    slow += s.slow_user;
  }
  CHECK(slow > 0);
  CHECK(slow < static_cast<int>(samples.size()));
}

TEST_CASE("faults: db_fail_rate = 1 fails every DB call, and reset brings the DB back") {
  DemoClusterOptions options;
  options.start_worker = false;
  DemoCluster cluster(options);
  INFO(cluster.logs());
  REQUIRE(http_get(cluster.api_url() + "/users/1").status == 200);
  // db_fail_rate = 1: every DB call fails, the api answers 503.
  REQUIRE(set_faults(cluster.api_url(), R"({"db_fail_rate": 1})").status == 200);
  for (const char* path : {"/users/1", "/users/2"})
    CHECK(http_get(cluster.api_url() + path).status == 503);
  REQUIRE(http_post(cluster.api_url() + "/__faults/reset", "").status == 200);
  CHECK(http_get(cluster.api_url() + "/users/1").status == 200);
}

TEST_CASE("faults: force_timeout holds requests until the cap or until switched off") {
  DemoClusterOptions options;
  options.start_worker = false;
  options.payment_timeout = "300ms";
  options.extra_payment_args = {"--max-force-timeout", "1s"};
  options.extra_api_args = {"--max-force-timeout", "300ms"};
  DemoCluster cluster(options);
  INFO(cluster.logs());
  // On the api every business route is held; health and metrics are not.
  REQUIRE(set_faults(cluster.api_url(), R"({"force_timeout": true})").status == 200);
  for (const char* path : {"/users/1", "/orders/x"}) {
    auto r = http_get(cluster.api_url() + path);
    CHECK(r.status == 504);
    CHECK(r.elapsed >= 290ms);
  }
  CHECK(http_post(cluster.api_url() + "/orders", order_body(1)).status == 504);
  CHECK(http_get(cluster.api_url() + "/healthz").elapsed < 250ms);
  CHECK(http_get(cluster.api_url() + "/metrics").status == 200);
  REQUIRE(http_post(cluster.api_url() + "/__faults/reset", "").status == 200);
  CHECK(http_get(cluster.api_url() + "/users/1").status == 200);

  REQUIRE(set_faults(cluster.payment_url(), R"({"force_timeout": true})").status == 200);
  // The api's call to payment times out: 504 after about --payment-timeout.
  auto order = http_post(cluster.api_url() + "/orders", order_body(1));
  CHECK(order.status == 504);
  CHECK(order.elapsed >= 290ms);
  CHECK(order.elapsed < 2s);
  CHECK(scrape(cluster.api_url(),
               R"(dep_call_duration_seconds_count{dependency="payment",outcome="timeout"})") == 1);
  // Directly, payment answers 504 after its cap.
  auto held = http_post(cluster.payment_url() + "/charge", R"({"order_id": "o", "amount": 1})");
  CHECK(held.status == 504);
  CHECK(held.elapsed >= 990ms);
  // Health stays served while business requests are held.
  CHECK(http_get(cluster.payment_url() + "/healthz").elapsed < 300ms);
  // Switching the knob off releases a held request, which then proceeds normally.
  faultline::HttpResponse released;
  std::thread t([&] {
    released = http_post(cluster.payment_url() + "/charge", R"({"order_id": "o", "amount": 1})");
  });
  CHECK(wait_until([&] { return scrape(cluster.payment_url(), "http_requests_in_flight") >= 2; },
                   2s));  // the held request, plus this scrape
  REQUIRE(set_faults(cluster.payment_url(), R"({"force_timeout": false})").status == 200);
  t.join();
  CHECK(released.status == 200);
  CHECK(released.elapsed < 990ms);
}

TEST_CASE("faults: force_timeout keeps server threads free for the control endpoints") {
  const TempDir tmp("hold");
  const std::string& logs = tmp.path();
  {
    // 4 threads: at most 2 business requests are admitted (and held); the bulkhead refuses
    // more at once, and the control plane keeps the other 2 threads.
    auto svc = start_demo_service("payment", {"--faults", "--threads", "4"}, {{"APP_ENV", "test"}},
                                  logs + "/payment.log");
    REQUIRE(set_faults(svc.url, R"({"force_timeout": true, "ttl_ms": 20000})").status == 200);
    std::vector<faultline::HttpResponse> held(2);
    std::vector<std::thread> threads;
    for (auto& h : held)
      threads.emplace_back(
          [&h, &svc] { h = http_post(svc.url + "/charge", R"({"order_id": "o", "amount": 1})"); });
    CHECK(wait_until(
        [&] { return scrape(svc.url, R"(worker_pool_busy_threads{pool="http"})") >= 3; }, 2s));
    auto extra = http_post(svc.url + "/charge", R"({"order_id": "o", "amount": 1})");
    CHECK(extra.status == 503);
    CHECK(extra.elapsed < 500ms);
    CHECK(http_get(svc.url + "/__faults").status == 200);
    REQUIRE(http_post(svc.url + "/__faults/reset", "").status == 200);
    for (auto& t : threads) t.join();
    for (const auto& h : held) CHECK(h.status == 200);
  }
}
