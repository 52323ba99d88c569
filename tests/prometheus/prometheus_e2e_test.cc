// End to end with a real Prometheus: Debian's prometheus on a free loopback port, scraping the
// demo services every second (generated config). One run of a short latency incident scraped by
// faultline itself, judged again with `faultline judge --prometheus`, and the same scenario
// run with `observe: {source: prometheus}`: all three reach the same verdicts. Also: a
// selector Prometheus does not know stops the run before any traffic, naming it.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "demo_cluster.h"
#include "faultline_runs.h"
#include "net/http_call.h"
#include "observe/prometheus_api.h"
#include "proc/child_process.h"
#include "prometheus_server.h"
#include "temp_dir.h"

using namespace faultline;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr const char* kSpec = "tests/prometheus/specs/prom-latency.yaml";
constexpr const char* kAlertsSpec = "tests/prometheus/specs/prom-alerts.yaml";
constexpr const char* kRules = "tests/prometheus/specs/prom-alerts.rules.yml";

std::string host_port(const std::string& url) {
  return url.substr(url.find("//") + 2);
}

std::string write_env(const std::string& path, testing::DemoCluster& cluster,
                      const std::string& extra) {
  std::ofstream f(path);
  f << "version: 1\nname: external\nservices:\n"
    << "  api: {url: \"" << cluster.api_url() << "\", faults: true}\n"
    << "  payment: {url: \"" << cluster.payment_url() << "\", faults: true}\n"
    << extra;  // more services, observe:
  return path;
}

// "<status> <text>" of every assertion in an artifact.
std::vector<std::string> verdicts(const rapidjson::Document& report) {
  std::vector<std::string> out;
  for (const auto& a : report["assertions"].GetArray())
    out.push_back(std::string(a["status"].GetString()) + " " + a["text"].GetString());
  return out;
}

// The same from `faultline judge` output ("  PASS <text>").
std::vector<std::string> judged_verdicts(const std::string& output) {
  std::vector<std::string> out;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    for (const auto& [tag, status] : std::vector<std::pair<std::string, std::string>>{
             {"  PASS ", "pass"}, {"  FAIL ", "fail"}, {"  INCONCLUSIVE ", "inconclusive"}})
      if (line.rfind(tag, 0) == 0) out.push_back(status + " " + line.substr(tag.size()));
  }
  return out;
}

}  // namespace

TEST_CASE(
    "judged through Prometheus, a scenario reaches the verdicts of direct scrapes, and "
    "asserts alerts") {
  testing::DemoClusterOptions options;
  options.start_worker = false;
  testing::DemoCluster cluster(options);
  testing::TempDir dir("prometheus-e2e");
  testing::PrometheusServer prometheus(
      dir, {{"api", cluster.api_url()}, {"payment", cluster.payment_url()}});
  REQUIRE_MESSAGE(testing::wait_until([&] { return prometheus.count_up("up") == 2; }, 20s, 200ms),
                  "prometheus never scraped both services: " << prometheus.process->log_tail());

  const std::string direct_env = write_env(dir / "direct.yaml", cluster, "");
  const std::string prom_env =
      write_env(dir / "prom.yaml", cluster,
                "observe:\n  source: prometheus\n  url: " + prometheus.url + "\n  wait: 20s\n");

  // First, while no earlier incident lingers in the 3 s rate windows: alerts fire in the
  // trigger, stay quiet in warmup and resolve in cooldown. This Prometheus is one the
  // environment starts itself (scripts/prometheus-for-env, `observe: {service: ...}`),
  // evaluating the test's rules; its URL is known only once it runs.
  {
    const std::string alerts_env = write_env(
        dir / "alerts.yaml", cluster,
        "  prometheus:\n    command: [sh, scripts/prometheus-for-env, --port, \"{port}\", --data, "
        "\"{data_dir}/prometheus\", --rules, " +
            std::string(FAULTLINE_SOURCE_DIR) + "/" + kRules +
            ", --target, \"api=" + host_port(cluster.api_url()) +
            "\", --target, \"payment=" + host_port(cluster.payment_url()) +
            "\"]\n    ready: {path: /-/ready, timeout: 20s}\n"
            "observe:\n  source: prometheus\n  service: prometheus\n  wait: 20s\n");
    fs::create_directories(dir / "alerts");
    testing::Run alerts = testing::run_faultline_in(
        {"run", kAlertsSpec, "--env", alerts_env, "--progress", "quiet"}, dir / "alerts", 90s);
    INFO(alerts.output);
    REQUIRE_FALSE(alerts.artifact.empty());
    CHECK(alerts.status() == "passed");
    const auto& observe = alerts.report["meta"]["observe"];
    CHECK(std::string(observe["source"].GetString()) == "prometheus");
    CHECK(std::string(observe["url"].GetString()).rfind("http://127.0.0.1:", 0) == 0);
    CHECK(verdicts(alerts.report) ==
          std::vector<std::string>{
              "pass during(warmup): alert(FaultlineTestPaymentSlow) never fires",
              "pass during(trigger): alert(FaultlineTestPaymentSlow) fires within 5s",
              "pass after(cooldown): alert(FaultlineTestPaymentSlow) resolved",
              "pass overall: alert(FaultlineTestApiDown) never fires",
              "pass during(trigger): p95(route=orders) > 400ms"});
    // The alert state is in the bundle: judged again offline, the same.
    testing::Run offline =
        testing::run_faultline_in({"judge", alerts.artifact}, dir / "alerts", 60s);
    CHECK(judged_verdicts(offline.output) == verdicts(alerts.report));

    // Without Prometheus an alert assertion cannot be judged: refused before any traffic.
    testing::Run refused = testing::run_faultline_in(
        {"run", kAlertsSpec, "--env", direct_env, "--progress", "quiet"}, dir / "alerts", 60s);
    CHECK(refused.exit_code == 2);
    CHECK(refused.output.find("asserts alert(FaultlineTestApiDown), which is read from "
                              "Prometheus") != std::string::npos);
  }

  fs::create_directories(dir / "direct");
  testing::Run direct = testing::run_faultline_in(
      {"run", kSpec, "--env", direct_env, "--progress", "quiet"}, dir / "direct", 90s);
  INFO(direct.output);
  REQUIRE_FALSE(direct.artifact.empty());
  CHECK(direct.status() == "passed");
  const auto expected = verdicts(direct.report);
  REQUIRE(expected.size() == 5);
  CHECK(std::string(direct.report["meta"]["observe"]["source"].GetString()) == "scrape");
  CHECK(direct.report["meta"]["plan_zero_unix_ms"].GetInt64() > 1'700'000'000'000);

  // Doctest would run the setup again for each SUBCASE; these share one cluster and one run.
  {  // the recorded run judged again from Prometheus
    testing::Run rejudged = testing::run_faultline_in(
        {"judge", direct.artifact, "--prometheus", prometheus.url}, dir / "direct", 60s);
    INFO(rejudged.output);
    CHECK(rejudged.exit_code == 0);
    CHECK(rejudged.output.find("server metrics from Prometheus at " + prometheus.url) !=
          std::string::npos);
    CHECK(judged_verdicts(rejudged.output) == expected);
  }

  {  // a run observed through Prometheus
    fs::create_directories(dir / "prom");
    testing::Run via = testing::run_faultline_in(
        {"run", kSpec, "--env", prom_env, "--progress", "quiet"}, dir / "prom", 90s);
    INFO(via.output);
    REQUIRE_FALSE(via.artifact.empty());
    CHECK(via.exit_code == direct.exit_code);
    CHECK(verdicts(via.report) == expected);
    const auto& observe = via.report["meta"]["observe"];
    CHECK(std::string(observe["source"].GetString()) == "prometheus");
    CHECK(std::string(observe["url"].GetString()) == prometheus.url);
    // The server side went into the bundle like scrapes: the run judges again offline.
    testing::Run offline = testing::run_faultline_in({"judge", via.artifact}, dir / "prom", 60s);
    INFO(offline.output);
    CHECK(offline.exit_code == 0);
    CHECK(judged_verdicts(offline.output) == expected);
  }

  {  // a selector Prometheus does not know stops the run before any traffic
    const std::string wrong_env =
        write_env(dir / "wrong.yaml", cluster,
                  "observe:\n  source: prometheus\n  url: " + prometheus.url +
                      "\n  match: 'job=\"shop-{service}\"'\n");
    fs::create_directories(dir / "wrong");
    testing::Run wrong = testing::run_faultline_in(
        {"run", kSpec, "--env", wrong_env, "--progress", "quiet"}, dir / "wrong", 60s);
    CHECK(wrong.exit_code == 3);
    CHECK(wrong.artifact.empty());
    CHECK(wrong.output.find("has no series up{job=\"shop-api\"}: it does not scrape api under "
                            "that selector") != std::string::npos);
  }
}
