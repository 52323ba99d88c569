// The demo's /metrics, written by prometheus-cpp, as faultline reads it: every role's exposition
// parses with the engine's MetricsTextParser into the families, types and labels the fault
// contract names, and the counters experiments read exist at 0 before any traffic.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "demo_cluster.h"
#include "demo_test_helpers.h"
#include "observe/metrics_text_parser.h"

using namespace faultline::testing;
using faultline::observe::MetricsTextParser;
using faultline::observe::MetricType;

namespace {

struct Expected {
  const char* family;
  MetricType type;
  std::vector<std::string> labels;  // label names, sorted (histograms: without "le")
};

std::vector<std::string> label_names(const faultline::observe::MetricSample& s) {
  std::vector<std::string> names;
  for (const auto& l : s.labels)
    if (l.name != "le") names.push_back(l.name);
  return names;
}

void check_families(const faultline::observe::Exposition& e, const std::vector<Expected>& want) {
  for (const auto& w : want) {
    CAPTURE(w.family);
    const auto* f = e.find_family(w.family);
    REQUIRE(f != nullptr);
    CHECK(f->type == w.type);
    CHECK(f->has_help_line);
    REQUIRE_FALSE(f->samples.empty());
    for (const auto& s : f->samples) CHECK(label_names(s) == w.labels);
  }
}

}  // namespace

TEST_CASE("metrics exposition: faultline's parser reads every role's prometheus-cpp /metrics") {
  DemoClusterOptions options;
  options.payment_retries = 1;
  DemoCluster cluster(options);
  INFO(cluster.logs());
  REQUIRE(set_faults(cluster.payment_url(), R"({"payment_fail_rate": 0.3})").status == 200);
  for (int i = 0; i < 20; ++i)
    http_post(cluster.api_url() + "/orders", order_body(i),
              {"X-Request-Id: expo-" + std::to_string(i)});
  CHECK(wait_until([&] { return scrape(cluster.worker_url(), "queue_depth") == 0; },
                   std::chrono::seconds(10)));

  const std::vector<Expected> common = {
      {"http_request_duration_seconds", MetricType::kHistogram, {"method", "route", "status"}},
      {"http_requests_total", MetricType::kCounter, {"method", "route", "status"}},
      {"http_requests_in_flight", MetricType::kGauge, {}},
      {"worker_pool_threads", MetricType::kGauge, {"pool"}},
      {"worker_pool_saturation_ratio", MetricType::kGauge, {"pool"}},
      {"service_ready", MetricType::kGauge, {}},
      {"fault_knob_value", MetricType::kGauge, {"knob"}},
      {"fault_changes_total", MetricType::kCounter, {"action"}},
      {"demo_build_info", MetricType::kGauge, {"role", "version"}}};
  MetricsTextParser parser;
  for (const auto& url : {cluster.api_url(), cluster.payment_url(), cluster.worker_url()}) {
    CAPTURE(url);
    const std::string text = http_get(url + "/metrics").body;
    int rc = -1;
    const std::string lint = promtool_check_metrics(text, &rc);
    CHECK_MESSAGE(rc == 0, lint);
    CHECK_MESSAGE(lint.empty(), lint);
    faultline::observe::Exposition e;
    REQUIRE_NOTHROW(e = parser.parse(text));
    CHECK(e.duplicate_samples == 0);
    check_families(e, common);
  }
  const auto api = parser.parse(http_get(cluster.api_url() + "/metrics").body);
  check_families(api,
                 {{"dep_call_duration_seconds", MetricType::kHistogram, {"dependency", "outcome"}},
                  {"dep_retries_total", MetricType::kCounter, {"dependency"}}});
  const auto payment = parser.parse(http_get(cluster.payment_url() + "/metrics").body);
  check_families(payment, {{"charges_total", MetricType::kCounter, {"outcome"}},
                           {"idempotent_replays_total", MetricType::kCounter, {}}});
  const auto worker = parser.parse(http_get(cluster.worker_url() + "/metrics").body);
  check_families(worker, {{"queue_depth", MetricType::kGauge, {}},
                          {"jobs_processed_total", MetricType::kCounter, {}},
                          {"jobs_effects_applied_total", MetricType::kCounter, {}},
                          {"jobs_duplicate_total", MetricType::kCounter, {}},
                          {"job_duration_seconds", MetricType::kHistogram, {}}});
}

TEST_CASE("metrics exposition: the counters experiments read are 0 before any traffic") {
  DemoCluster cluster;
  INFO(cluster.logs());
  const std::string api = http_get(cluster.api_url() + "/metrics").body;
  for (const char* series :
       {R"(dep_retries_total{dependency="payment"})", R"(dep_hedges_total{dependency="payment"})",
        R"(dep_hedge_wins_total{dependency="payment"})",
        R"(dep_hedges_suppressed_total{dependency="payment"})",
        R"(dep_retry_budget_exhausted_total{dependency="payment"})",
        R"(fault_changes_total{action="set"})", "orders_replayed_total", "orders_reconciled_total",
        "orders_paid_not_queued"})
    CHECK_MESSAGE(metric_value(api, series) == 0.0, series);
  const std::string payment = http_get(cluster.payment_url() + "/metrics").body;
  for (const char* series : {R"(charges_total{outcome="captured"})",
                             R"(charges_total{outcome="failed"})", "idempotent_replays_total"})
    CHECK_MESSAGE(metric_value(payment, series) == 0.0, series);
  const std::string worker = http_get(cluster.worker_url() + "/metrics").body;
  for (const char* series :
       {"jobs_processed_total", "jobs_effects_applied_total", "jobs_duplicate_total",
        "jobs_duplicate_applied_total", "jobs_failed_total", "jobs_retried_total",
        "jobs_dead_lettered_total", "jobs_recovered_total"})
    CHECK_MESSAGE(metric_value(worker, series) == 0.0, series);
}
