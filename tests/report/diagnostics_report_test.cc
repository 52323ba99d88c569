// The run summary's diagnostics (issue 8): send lateness per phase and the client-lagging
// flag (item 3), aborted requests kept out of the target's errors (item 10), and failed scrapes
// named with their reasons in verdicts and the artifact (item 7).
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "observe/sample_log.h"
#include "observe/scrape_log.h"
#include "recorded/bundle.h"
#include "recorded/run_observations.h"
#include "report/report_json.h"
#include "report/summary.h"
#include "report_schema.h"
#include "temp_dir.h"

using namespace faultline;
using namespace std::chrono_literals;

namespace {

constexpr const char* kServerP95 =
    "during(trigger): metric.p95(http_request_duration_seconds{job=\"api\"}) < 500ms";
constexpr const char* kErrorRate = "during(trigger): error_rate < 10%";

Plan plan_of(std::vector<std::string> assertions = {}) {
  Plan p;
  p.scenario_name = "diagnostics";
  p.target = "api";
  p.seed = 7;
  p.phases = {PhaseWindow{"warmup", 0s, 10s, 10, 10}, PhaseWindow{"trigger", 10s, 20s, 10, 10}};
  p.total = 20s;
  RouteSpec r;
  r.name = "orders";
  r.method = "GET";
  r.path_template = "/orders";
  p.routes = {r};
  p.scrape_targets = {ScrapeTarget{"api", "/metrics"}};
  p.scrape_ticks = {0s, 10s, 20s};
  p.plan_hash = std::string(64, 'a');
  for (auto& text : assertions)
    p.assertions.push_back(
        plan_statement(std::move(text), {}, dsl::StatementKind::kAssertion, "test"));
  return p;
}

observe::SampleRecord sample(uint64_t seq, const std::string& phase, int status, int64_t latency_us,
                             int64_t lateness_us = 0, const std::string& error_class = "") {
  observe::SampleRecord r;
  r.seq = seq;
  r.request_id = "fl-7-" + std::to_string(seq);
  r.route = "orders";
  r.method = "GET";
  r.path = "/orders";
  r.phase = phase;
  r.intended_us = (phase == "warmup" ? 0 : 10'000'000) + static_cast<int64_t>(seq) * 1000;
  r.sent_us = r.intended_us + lateness_us;
  r.latency_us = latency_us;
  r.status = status;
  r.error_class = error_class;
  return r;
}

// warmup: 40 on time (2 ms). trigger: 30 answered 100 ms late (101 ms), 5 aborted in flight by
// the stop, 1 503.
std::vector<observe::SampleRecord> run_samples() {
  std::vector<observe::SampleRecord> out;
  for (uint64_t i = 0; i < 40; ++i) out.push_back(sample(i, "warmup", 200, 2000));
  for (uint64_t i = 100; i < 130; ++i) out.push_back(sample(i, "trigger", 200, 101000, 100000));
  for (uint64_t i = 130; i < 135; ++i)
    out.push_back(sample(i, "trigger", 0, 5'000'000, 100000, "aborted"));
  out.push_back(sample(135, "trigger", 503, 101000, 100000));
  return out;
}

std::string printed(const RunReport& r) {
  char* buf = nullptr;
  size_t size = 0;
  std::FILE* f = open_memstream(&buf, &size);
  print_summary(f, r, "artifacts/x.json");
  std::fclose(f);
  std::string out(buf, size);
  std::free(buf);
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(text.substr(start, nl - start));
  return out;
}

}  // namespace

TEST_CASE("aborted requests are listed apart, not as target errors, signatures or latency") {
  const Plan plan = plan_of();
  RunObservations obs(plan, {}, {});
  for (const auto& s : run_samples()) obs.record(s);
  RunReport report;
  summarize_run(report, plan, obs, obs.client_stats(), false);
  REQUIRE(report.phases.size() == 2);
  const TrafficSummary& t = report.phases[1].client;
  CHECK(t.sent == 36);
  CHECK(t.completed == 31);
  CHECK(t.by_error_class.at("aborted") == 5);
  CHECK(t.by_error_class.count("other") == 0);
  CHECK(t.error_rate == doctest::Approx(1.0 / 31));  // the 503 only
  CHECK(t.latency.count == 31);
  CHECK(*t.latency.max_ms < 200);  // not the 5 s the stop took
  CHECK(report.phases[1].routes.at("orders").by_error_class.at("aborted") == 5);
  REQUIRE(report.error_signatures.size() == 1);
  CHECK(report.error_signatures[0].signature == "orders 503");
  for (const auto& s : report.slowest) CHECK(s.error_class != "aborted");
}

TEST_CASE("send lateness per phase, the client-lagging flag, the table and the artifact") {
  const Plan plan = plan_of();
  RunObservations obs(plan, {}, {});
  for (const auto& s : run_samples()) obs.record(s);
  RunReport report;
  report.plan_hash = plan.plan_hash;
  summarize_run(report, plan, obs, obs.client_stats(), false);
  const SendLateness& warmup = report.phases[0].send_lateness;
  const SendLateness& trigger = report.phases[1].send_lateness;
  CHECK(warmup.count == 40);
  CHECK(*warmup.p50_ms == 0);
  CHECK(*warmup.max_ms == 0);
  CHECK_FALSE(warmup.client_lagging);
  CHECK(trigger.count == 36);  // aborted ones were sent too
  CHECK(*trigger.p50_ms == doctest::Approx(100).epsilon(0.005).scale(0));
  CHECK(*trigger.p99_ms == doctest::Approx(100).epsilon(0.005).scale(0));
  CHECK(*trigger.max_ms == 100);
  CHECK(trigger.client_lagging);

  const std::string text = printed(report);
  const auto lines = lines_of(text);
  size_t header = lines.size();
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].rfind("phase ", 0) == 0) header = i;
  REQUIRE(header + 2 < lines.size());
  // The lateness column lines up under its heading.
  const size_t column = lines[header].find("send late p50/p99/max");
  REQUIRE(column != std::string::npos);
  CHECK(lines[header + 1].find("0.0/0.0/0.0ms") == column);
  CHECK(lines[header + 2].find("100/100/100ms (client lagging)") == column);
  CHECK(lines[header].find("errors") + 6 == column - 2);
  CHECK(text.find("client lagging in trigger: p99 send lateness above max(10ms, 10% of p99 "
                  "latency)") != std::string::npos);
  CHECK(text.find("client lagging in warmup") == std::string::npos);

  const std::string json = report_to_json(report);
  CHECK(testing::report_schema_problem(json) == "");
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  REQUIRE(!doc.HasParseError());
  const auto& phase = doc["phases"][1];
  CHECK(phase["send_lateness_ms"]["count"].GetInt() == 36);
  CHECK(phase["send_lateness_ms"]["max"].GetDouble() == 100);
  CHECK(phase["send_lateness_ms"]["p99"].GetDouble() ==
        doctest::Approx(100).epsilon(0.005).scale(0));
  CHECK(phase["client_lagging"].GetBool());
  CHECK_FALSE(doc["phases"][0]["client_lagging"].GetBool());
  CHECK(phase["client"]["by_error_class"]["aborted"].GetInt() == 5);
}

TEST_CASE("the client-lagging rule: p99 lateness above 10 ms and above 10% of p99 latency") {
  auto lagging = [](double late_p99_ms, double latency_p99_ms) {
    SendLateness l;
    l.count = 100;
    l.p50_ms = 0;
    l.p99_ms = late_p99_ms;
    l.max_ms = late_p99_ms;
    LatencySummary latency;
    latency.count = 100;
    latency.p99_ms = latency_p99_ms;
    return is_client_lagging(l, latency);
  };
  CHECK_FALSE(lagging(9, 12));     // under the floor: scheduler noise
  CHECK(lagging(11, 12));          // the target answered in ~1 ms; faultline was the delay
  CHECK_FALSE(lagging(15, 2000));  // small next to what the target took
  CHECK(lagging(250, 2000));       // a quarter second of a 2 s p99 is faultline's
  CHECK_FALSE(is_client_lagging(SendLateness{}, LatencySummary{}));
}

TEST_CASE("failed scrapes: verdicts name the first reason and count, the artifact lists them") {
  const Plan plan = plan_of({kServerP95});
  RunObservations obs(plan, judging_windows(plan), {});
  const std::vector<Duration> ticks = plan.scrape_ticks;
  obs.scrape_done("api", 0, ticks, std::string("# TYPE x counter\nx 1\n"), "");
  // Out of order, as they may complete: the store still takes them in tick order.
  obs.scrape_done("api", 2, ticks, std::nullopt, "HTTP 503: busy");
  obs.scrape_done("api", 1, ticks,
                  std::string("http_request_duration_seconds_bucket{le=\"0.1\" 3\n"), "");
  RunReport report;
  report.plan_hash = plan.plan_hash;
  summarize_run(report, plan, obs, obs.client_stats(), true);
  summarize_scrape_failures(report, plan, obs.scrapes_unlocked());

  REQUIRE(report.assertions.size() == 1);
  const AssertionReport& a = report.assertions[0];
  CHECK(a.status == judge::VerdictStatus::kInconclusive);
  INFO(a.message);
  CHECK(a.message.find("2 scrape(s) failed in the window; the first, api at 10s: metrics text: "
                       "line 1:") != std::string::npos);
  REQUIRE(a.observed.size() == 1);
  CHECK(a.observed[0].note.find("traffic guard") == std::string::npos);
  CHECK(a.observed[0].note.find("2 scrape(s) failed") == 0);

  REQUIRE(report.scrape_failures.size() == 1);
  CHECK(report.scrape_failures[0].service == "api");
  CHECK(report.scrape_failures[0].count == 2);
  REQUIRE(report.scrape_failures[0].first.size() == 2);
  CHECK(report.scrape_failures[0].first[0].at == 10s);
  CHECK(report.scrape_failures[0].first[0].reason.find("metrics text: line 1:") == 0);
  CHECK(report.scrape_failures[0].first[1].reason == "HTTP 503: busy");

  const std::string text = printed(report);
  CHECK(text.find("scrapes of api failed 2 time(s); first at 10s: metrics text: line 1:") !=
        std::string::npos);
  const std::string json = report_to_json(report);
  CHECK(testing::report_schema_problem(json) == "");
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  CHECK(doc["scrape_failures"][0]["count"].GetInt() == 2);
  CHECK(doc["scrape_failures"][0]["first"][1]["at_us"].GetInt64() == 20'000'000);
  CHECK(std::string(doc["scrape_failures"][0]["first"][1]["reason"].GetString()) ==
        "HTTP 503: busy");
}

TEST_CASE("the artifact lists at most 20 failures per target, with the full count") {
  Plan plan = plan_of();
  observe::ScrapeStore store;
  for (int i = 0; i < 25; ++i)
    store.add_failed_scrape("api", Duration{i * 1'000'000}, "HTTP 401: token=s3cr3t");
  RunReport report;
  report.plan_hash = plan.plan_hash;
  summarize_scrape_failures(report, plan, store);
  REQUIRE(report.scrape_failures.size() == 1);
  CHECK(report.scrape_failures[0].count == 25);
  CHECK(report.scrape_failures[0].first.size() == 20);
  CHECK(report.scrape_failures[0].first.back().at == 19s);
  CHECK(report.scrape_failures[0].first[0].reason == "HTTP 401: token=[redacted]");
  CHECK(testing::report_schema_problem(report_to_json(report)) == "");
  report.scrape_failures[0].first.resize(21);
  CHECK(testing::report_schema_problem(report_to_json(report)) != "");
}

TEST_CASE("a recorded bundle judges aborted requests and failed scrapes as the live run did") {
  const faultline::testing::TempDir tmp_dir("diag-bundle");
  const std::filesystem::path dir = tmp_dir.path();
  const BundleLayout bundle{dir.string()};
  {
    observe::SampleLogWriter samples(bundle.samples());
    for (const auto& s : run_samples()) samples.append(s);
    samples.close();
    observe::ScrapeLogWriter scrapes(bundle.scrape_log());
    scrapes.append_scrape("api", 0s, "# TYPE x counter\nx 1\n");
    scrapes.append_scrape("api", 10s, "http_request_duration_seconds_bucket{le=\"0.1\" 3\n");
    scrapes.append_failure("api", 20s, "timeout after 2s (Timeout was reached)");
    scrapes.close();
  }
  const Plan plan = plan_of({kErrorRate, kServerP95});
  RunObservations obs(plan, judging_windows(plan), {});
  obs.load_recorded(bundle.dir);
  const auto verdicts = judge_assertions(plan, obs);
  REQUIRE(verdicts.size() == 2);
  // 1 error in 31 requests the target answered; the 5 aborted by the stop are not its errors.
  INFO(verdicts[0].message);
  CHECK(verdicts[0].status == judge::VerdictStatus::kPass);
  CHECK(verdicts[0].message.find("3.226% over 31 requests") != std::string::npos);
  CHECK(verdicts[1].status == judge::VerdictStatus::kInconclusive);
  CHECK(verdicts[1].message.find("2 scrape(s) failed in the window; the first, api at 10s: "
                                 "metrics text: line 1:") != std::string::npos);
}
