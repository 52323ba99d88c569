// End to end: the chaos experiments of specs/ (smoke, redis-down, worker-crash,
// duplicate-requests, dependency-latency, partition, flapping, instance-kill, broker-down, and
// the lever scenarios lever-rollback, payment-down, load-shed, poison-jobs) run
// as `make chaos` runs them, at their default seeds and lengths, against the demo services.
// Each must reproduce (exit 0, every assertion passing, faults undone); each with its faults
// removed (tests/integration/specs/<name>-no-fault.yaml; for a lever scenario, its lever
// removed: <name>-no-lever.yaml) must fail with exit 1, which proves its assertions can fail; and
// broker-down must fail in the fixed environment, which proves the fix.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "faultline_runs.h"

using namespace faultline;
using namespace std::chrono_literals;

namespace {

using testing::Run;
using testing::run_faultline;

void check_reproduces(const std::string& name) {
  const Run r = run_faultline({"run", "specs/" + name + ".yaml"}, name, 240s);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  REQUIRE(r.report.IsObject());
  CHECK(r.report["faults_undone"].IsTrue());
  const auto& assertions = r.report["assertions"];
  CHECK(assertions.Size() > 0);
  for (const auto& a : assertions.GetArray()) {
    INFO(a["text"].GetString() << ": " << a["message"].GetString());
    CHECK(std::string(a["status"].GetString()) == "pass");
  }
}

// The run judged and failed: exit 1 with at least one failed assertion (not an environment
// error, which would also be non-zero but prove nothing about the assertions).
void check_fails(const std::vector<std::string>& args, const std::string& name) {
  const Run r = run_faultline(args, name, 240s);
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(r.status() == "failed");
  REQUIRE(r.report.IsObject());
  int failed = 0;
  for (const auto& a : r.report["assertions"].GetArray())
    failed += std::string(a["status"].GetString()) == "fail";
  CHECK(failed > 0);
}

void check_fails_without_faults(const std::string& name) {
  check_fails({"run", "tests/integration/specs/" + name + "-no-fault.yaml"}, name + "-nf");
}

}  // namespace

TEST_CASE("smoke: every acknowledged order is applied once and the queue drains") {
  check_reproduces("smoke");
}

TEST_CASE("redis-down reproduces: 503s, readiness flips, nothing acknowledged is lost") {
  check_reproduces("redis-down");
}
TEST_CASE("redis-down without its fault fails") {
  check_fails_without_faults("redis-down");
}

TEST_CASE("worker-crash reproduces: the backlog rises and drains, nothing lost or doubled") {
  check_reproduces("worker-crash");
}
TEST_CASE("worker-crash without its fault fails") {
  check_fails_without_faults("worker-crash");
}

TEST_CASE("duplicate-requests: one effect per client_order_id") {
  check_reproduces("duplicate-requests");
}
TEST_CASE("duplicate-requests without its duplicates fails") {
  check_fails_without_faults("duplicate-requests");
}

TEST_CASE("dependency-latency reproduces at its default level") {
  check_reproduces("dependency-latency");
}
TEST_CASE("dependency-latency without its fault fails") {
  check_fails_without_faults("dependency-latency");
}

TEST_CASE("partition reproduces: bounded failures, recovery after the blackhole") {
  check_reproduces("partition");
}
TEST_CASE("partition without its fault fails") {
  check_fails_without_faults("partition");
}

TEST_CASE("flapping reproduces: the system converges and nothing is lost") {
  check_reproduces("flapping");
}
TEST_CASE("flapping without its faults fails") {
  check_fails_without_faults("flapping");
}

TEST_CASE("instance-kill reproduces: the balancer hides the loss, the instance comes back") {
  check_reproduces("instance-kill");
}
TEST_CASE("instance-kill without its fault fails") {
  check_fails_without_faults("instance-kill");
}

TEST_CASE("broker-down reproduces: charged orders with no job") {
  check_reproduces("broker-down");
}
TEST_CASE("broker-down without its fault fails") {
  check_fails_without_faults("broker-down");
}
TEST_CASE("broker-down in the fixed environment fails: reconciliation closes the gap") {
  check_fails({"run", "specs/broker-down.yaml", "--env", "envs/local-fixed.yaml"}, "bd-fixed");
}

TEST_CASE("lever-rollback reproduces: the hedge lever pulled mid-incident brings p95 back") {
  check_reproduces("lever-rollback");
}
TEST_CASE("lever-rollback without its lever fails") {
  check_fails({"run", "tests/integration/specs/lever-rollback-no-lever.yaml"}, "lever-rollback-nl");
}
TEST_CASE("payment-down reproduces: the kill switch frees the api while payment hangs") {
  check_reproduces("payment-down");
}
TEST_CASE("payment-down without its kill switch fails") {
  check_fails({"run", "tests/integration/specs/payment-down-no-lever.yaml"}, "payment-down-nl");
}
TEST_CASE("load-shed reproduces: capping orders in flight keeps users served") {
  check_reproduces("load-shed");
}
TEST_CASE("load-shed without its lever fails") {
  check_fails({"run", "tests/integration/specs/load-shed-no-lever.yaml"}, "load-shed-nl");
}
TEST_CASE("poison-jobs reproduces: no retries once worker_max_retries is 0") {
  check_reproduces("poison-jobs");
}
TEST_CASE("poison-jobs without its lever fails") {
  check_fails({"run", "tests/integration/specs/poison-jobs-no-lever.yaml"}, "poison-jobs-nl");
}
