// The worker's reliability: a crash mid-queue loses nothing and duplicates nothing; failures
// retry and then dead-letter exactly the targeted jobs; SIGTERM hands unfinished jobs back.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <set>
#include <string>
#include <vector>

#include "common/targeting.h"
#include "demo_cluster.h"
#include "demo_test_helpers.h"

using namespace faultline::testing;
using namespace std::chrono_literals;

namespace {

// Places `n` orders through the api; returns their order ids.
std::vector<std::string> place_orders(const DemoCluster& cluster, const std::string& prefix,
                                      int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    auto r = http_post(cluster.api_url() + "/orders", order_body(i),
                       {"X-Request-Id: " + prefix + std::to_string(i)});
    REQUIRE(r.status == 201);
    ids.push_back(parse_json(r.body)["order_id"].GetString());
  }
  return ids;
}

}  // namespace

TEST_CASE("worker: SIGKILL mid-queue, restart: every order's effect exactly once") {
  DemoClusterOptions options;
  options.workers = 2;
  DemoCluster cluster(options);
  INFO(cluster.logs());
  // Long per-job delay: both consumers hold a job when the crash comes, the rest waits.
  REQUIRE(set_faults(cluster.worker_url(), R"({"worker_delay_ms": 5000})").status == 200);
  const auto orders = place_orders(cluster, "k-", 30);
  auto& redis = cluster.redis();
  REQUIRE(wait_until([&] { return redis.integer({"LLEN", "orders:processing:worker"}) == 2; }, 5s));
  // Duplicate deliveries: copies of five queued jobs.
  for (int i = 0; i < 5; ++i) {
    const auto raw = redis.command({"LINDEX", "orders:queue", std::to_string(i)});
    REQUIRE(raw.type == faultline::demo::RedisReply::Type::kString);
    redis.command({"LPUSH", "orders:queue", raw.str});
  }
  cluster.kill_worker(SIGKILL);
  REQUIRE_FALSE(cluster.worker_process().running());
  // Nothing finished, nothing lost: 2 taken jobs are still in the processing list.
  CHECK(redis.integer({"GET", "orders:effects"}) == 0);
  CHECK(redis.integer({"LLEN", "orders:processing:worker"}) == 2);
  CHECK(redis.integer({"LLEN", "orders:queue"}) == 33);

  cluster.start_worker();  // baseline knobs: no delay
  CHECK(wait_until([&] { return drained(cluster); }, 15s));
  CHECK(redis.integer({"GET", "orders:effects"}) == static_cast<long long>(orders.size()));
  for (const auto& id : orders) CHECK(redis.integer({"EXISTS", "orders:done:" + id}) == 1);
  CHECK(redis.integer({"LLEN", "orders:dlq"}) == 0);
  CHECK(scrape(cluster.worker_url(), "jobs_recovered_total") == 2);
  CHECK(scrape(cluster.worker_url(), "jobs_processed_total") == 35);
  CHECK(scrape(cluster.worker_url(), "jobs_duplicate_total") == 5);
}

TEST_CASE("worker: failures retry, then dead-letter exactly the targeted orders") {
  DemoClusterOptions options;
  options.max_retries = 2;
  DemoCluster cluster(options);
  INFO(cluster.logs());
  REQUIRE(set_faults(cluster.worker_url(), R"({"worker_fail_rate": 0.3})").status == 200);
  const auto orders = place_orders(cluster, "f-", 40);
  std::set<std::string> expected_dead;
  for (const auto& id : orders)
    if (faultline::targeting_hit("worker_fail_rate", id, 0.3)) expected_dead.insert(id);
  REQUIRE_FALSE(expected_dead.empty());
  auto& redis = cluster.redis();
  CHECK(wait_until(
      [&] {
        return drained(cluster) && redis.integer({"LLEN", "orders:dlq"}) ==
                                       static_cast<long long>(expected_dead.size());
      },
      10s));
  std::set<std::string> dead;
  const auto dlq = redis.command({"LRANGE", "orders:dlq", "0", "-1"});
  for (const auto& e : dlq.elements) {
    auto job = parse_json(e.str);
    dead.insert(job["order_id"].GetString());
    CHECK(job["attempt"].GetInt() == 2);
    CHECK(std::string(job["last_error"].GetString()) == "worker_fail_rate");
    CHECK(std::string(job["request_id"].GetString()).rfind("f-", 0) == 0);
  }
  CHECK(dead == expected_dead);
  const auto n_dead = static_cast<double>(expected_dead.size());
  CHECK(redis.integer({"GET", "orders:effects"}) ==
        static_cast<long long>(orders.size()) - static_cast<long long>(n_dead));
  CHECK(scrape(cluster.worker_url(), "jobs_failed_total") == 3 * n_dead);
  CHECK(scrape(cluster.worker_url(), "jobs_retried_total") == 2 * n_dead);
  CHECK(scrape(cluster.worker_url(), "jobs_dead_lettered_total") == n_dead);
}

TEST_CASE("worker: SIGTERM hands the current jobs back and exits 0") {
  DemoClusterOptions options;
  options.workers = 2;
  DemoCluster cluster(options);
  INFO(cluster.logs());
  REQUIRE(set_faults(cluster.worker_url(), R"({"worker_delay_ms": 10000})").status == 200);
  place_orders(cluster, "g-", 5);
  auto& redis = cluster.redis();
  REQUIRE(wait_until([&] { return redis.integer({"LLEN", "orders:processing:worker"}) == 2; }, 5s));
  const auto start = std::chrono::steady_clock::now();
  const int status = cluster.worker_process().stop(5000ms);
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(redis.integer({"LLEN", "orders:processing:worker"}) == 0);
  CHECK(redis.integer({"LLEN", "orders:queue"}) == 5);
  CHECK(redis.integer({"GET", "orders:effects"}) == 0);
}
