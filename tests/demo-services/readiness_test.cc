// /readyz follows the required dependencies: Redis for api and worker, payment for the api
// when --payment-required.
#include <doctest/doctest.h>
#include <signal.h>

#include "demo_cluster.h"
#include "demo_test_helpers.h"

using namespace faultline::testing;
using namespace std::chrono_literals;

TEST_CASE("readiness: 503 while Redis is down, 200 again when it is back on the same port") {
  DemoCluster cluster;
  INFO(cluster.logs());
  auto ready = [](const std::string& url) { return http_get(url + "/readyz").status; };
  REQUIRE(ready(cluster.api_url()) == 200);
  REQUIRE(ready(cluster.worker_url()) == 200);
  CHECK(ready(cluster.payment_url()) == 200);  // payment needs no Redis

  cluster.stop_redis();
  CHECK(wait_until([&] { return ready(cluster.api_url()) == 503; }, 5s));
  CHECK(wait_until([&] { return ready(cluster.worker_url()) == 503; }, 5s));
  auto body = parse_json(http_get(cluster.api_url() + "/readyz").body);
  CHECK_FALSE(body["ready"].GetBool());
  CHECK_FALSE(body["dependencies"]["redis"]["up"].GetBool());
  CHECK(body["dependencies"]["redis"]["error"].IsString());
  CHECK(scrape(cluster.api_url(), "service_ready") == 0);
  CHECK(scrape(cluster.api_url(), R"(dependency_up{dependency="redis"})") == 0);
  CHECK(http_get(cluster.api_url() + "/healthz").status == 200);  // alive, just not ready
  // Orders cannot be queued meanwhile: 503 with a problem body, and the api keeps serving.
  CHECK(http_post(cluster.api_url() + "/orders", order_body(1)).status == 503);

  cluster.start_redis();
  CHECK(wait_until([&] { return ready(cluster.api_url()) == 200; }, 5s));
  CHECK(wait_until([&] { return ready(cluster.worker_url()) == 200; }, 5s));
  CHECK(scrape(cluster.api_url(), "service_ready") == 1);
  // And the path through Redis works again end to end.
  CHECK(http_post(cluster.api_url() + "/orders", order_body(2)).status == 201);
  CHECK(wait_until([&] { return cluster.redis().integer({"GET", "orders:effects"}) == 1; }, 5s));
}

TEST_CASE("readiness: payment counts for the api only with --payment-required") {
  DemoClusterOptions options;
  options.payment_required = true;
  options.start_worker = false;
  DemoCluster cluster(options);
  INFO(cluster.logs());
  REQUIRE(http_get(cluster.api_url() + "/readyz").status == 200);
  cluster.payment_process().send_signal(SIGSTOP);  // alive but unresponsive
  CHECK(wait_until([&] { return http_get(cluster.api_url() + "/readyz").status == 503; }, 5s));
  cluster.payment_process().send_signal(SIGCONT);
  CHECK(wait_until([&] { return http_get(cluster.api_url() + "/readyz").status == 200; }, 5s));
}
