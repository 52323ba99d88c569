// End to end: one alert variant of specs/alerts/ (redis-down-alerts, the shortest) runs as the
// nightly matrix runs it, on envs/local-prometheus.yaml, with a real Prometheus evaluating
// deploy/prometheus/alerts.yml against the demo services. It must reproduce: exit 0, faults
// undone, and every assertion passing, among them `alert(NAME) never fires` in warmup,
// `alert(NAME) fires within D` in the trigger and `alert(NAME) resolved` after the cooldown,
// each judged from reads of Prometheus' ALERTS series (not inconclusive for want of reads).
// The other variants run nightly (specs/matrix/nightly.yaml); `faultline coverage` checks
// that together they fire every rule.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <string>

#include "faultline_runs.h"

using namespace faultline;
using namespace std::chrono_literals;

TEST_CASE("redis-down-alerts: RedisDown and ServiceNotReady quiet, then firing, then resolved") {
  const testing::Run r =
      testing::run_faultline({"run", "specs/alerts/redis-down-alerts.yaml"}, "rd-alerts", 180s);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  REQUIRE(r.report.IsObject());
  CHECK(r.report["faults_undone"].IsTrue());
  int never = 0, fires = 0, resolved = 0;
  for (const auto& a : r.report["assertions"].GetArray()) {
    const std::string text = a["text"].GetString();
    INFO(text << ": " << a["message"].GetString());
    CHECK(std::string(a["status"].GetString()) == "pass");
    if (text.find("alert(") == std::string::npos) continue;
    never += text.find(") never fires") != std::string::npos;
    fires += text.find(") fires within") != std::string::npos;
    resolved += text.find(") resolved") != std::string::npos;
  }
  // Each state judged at least once per alert the variant proves (RedisDown, ServiceNotReady).
  CHECK(never >= 2);
  CHECK(fires >= 2);
  CHECK(resolved >= 2);
}
