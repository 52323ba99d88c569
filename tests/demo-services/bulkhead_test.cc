// The bulkhead: a saturated service keeps answering its control endpoints, so the engine can
// always switch a fault off, and refuses business work beyond its threads at once (503).
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "demo_cluster.h"

using namespace faultline;
using namespace faultline::testing;
using namespace std::chrono_literals;

TEST_CASE("a saturated payment sheds business requests and still answers /__faults") {
  DemoClusterOptions options;
  options.start_worker = false;
  options.extra_payment_args = {"--threads", "6"};  // 4 for business, 2 kept free
  DemoCluster cluster(options);
  REQUIRE(http_post(cluster.payment_url() + "/__faults", R"({"db_latency_ms_add": 1500})").ok());

  constexpr int kCharges = 12;
  std::atomic<int> ok{0}, shed{0}, other{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kCharges; ++i) {
    clients.emplace_back([&, i] {
      const HttpResponse r =
          http_post(cluster.payment_url() + "/charge",
                    R"({"order_id": "o-)" + std::to_string(i) + R"(", "amount": 10})",
                    {"X-Request-Id: bulkhead-" + std::to_string(i)});
      (r.status == 200 ? ok : r.status == 503 ? shed : other)++;
    });
  }
  // Once a charge is shed, the business threads are all asleep in the slow DB; the control
  // plane must still answer at once.
  REQUIRE(wait_until([&] { return shed.load() > 0; }, 5s));
  const HttpResponse faults = http_get(cluster.payment_url() + "/__faults");
  CHECK(faults.status == 200);
  CHECK(faults.elapsed < 1000ms);  // far below the 1.5 s a business thread is held
  const HttpResponse reset = http_post(cluster.payment_url() + "/__faults/reset", "");
  CHECK(reset.status == 200);
  CHECK(reset.elapsed < 1000ms);
  for (auto& t : clients) t.join();
  // At most threads - 2 charges were admitted; the rest were refused, not queued.
  CHECK(ok <= 4);
  CHECK(ok + shed == kCharges);
  CHECK(shed >= kCharges - 4);
  CHECK(other == 0);
}
