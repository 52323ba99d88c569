// Judging from recorded observations, with no services and no network: a bundle written by
// hand (plan.json, samples.csv.gz, scrapes.txt.gz) is loaded and judged, and the verdicts
// follow the recorded numbers.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/file_io.h"
#include "observe/sample_log.h"
#include "observe/scrape_log.h"
#include "plan/compiler.h"
#include "plan/plan_json.h"
#include "recorded/recorded_run.h"
#include "report/report_json.h"
#include "report/summary.h"
#include "temp_dir.h"

using namespace faultline;
using namespace std::chrono_literals;
using faultline::testing::TempDir;
namespace fs = std::filesystem;

namespace {

Scenario two_phase_scenario() {
  Scenario s;
  s.name = "recorded";
  s.seed = 5;
  s.target = "api";
  s.traffic.rate_per_s = 10;
  RouteSpec r;
  r.name = "orders";
  r.method = "POST";
  r.path_template = "/orders";
  s.traffic.routes = {r};
  s.phases = {PhaseSpec{"warmup", 10s, std::nullopt, std::nullopt, {}, {}},
              PhaseSpec{"trigger", 10s, std::nullopt, std::nullopt, {}, {}}};
  s.observe.targets = {{"api", "/metrics"}};
  s.observe.interval = 5s;
  s.assertions = {{"during(trigger): p95 > 800ms", {}},
                  {"during(warmup): p95 < 100ms", {}},
                  {"during(trigger): error_rate > 10%", {}},
                  {"during(trigger): metric.increase(http_requests_total{job=\"api\"}) >= 100", {}},
                  {"during(trigger, last 5s): p50 > 1s", {}}};
  return s;
}

// A bundle as the runner leaves it: every warmup request 20 ms; in the trigger, one request
// in five fails with 503 and the rest take 900 ms (1200 ms in its last 5 s).
TempDir write_bundle(const Plan& plan) {
  TempDir tmp("recorded");
  const std::string& dir = tmp.path();
  fs::create_directories(dir + "/bundle");
  write_file_atomically(dir + "/bundle/plan.json", plan_to_json(plan, 0, true));
  {
    observe::SampleLogWriter samples(dir + "/bundle/samples.csv.gz");
    for (int i = 0; i < 200; ++i) {
      observe::SampleRecord r;
      r.seq = static_cast<uint64_t>(i);
      r.request_id = "fl-5-" + std::to_string(i);
      r.route = "orders";
      r.method = "POST";
      r.path = "/orders";
      r.intended_us = i * 100'000;
      r.sent_us = r.intended_us;
      const bool trigger = r.intended_us >= 10'000'000;
      r.phase = trigger ? "trigger" : "warmup";
      r.status = trigger && i % 5 == 0 ? 503 : 200;
      r.latency_us = !trigger ? 20'000 : r.intended_us >= 15'000'000 ? 1'200'000 : 900'000;
      samples.append(r);
    }
    samples.close();
  }
  observe::ScrapeLogWriter scrapes(dir + "/bundle/scrapes.txt.gz");
  for (int t = 0; t <= 20; t += 5) {
    // 10 requests/s until 10 s, then 20/s.
    const int total = t <= 10 ? 10 * t : 100 + 20 * (t - 10);
    scrapes.append_scrape(
        "api", Duration{t * 1'000'000LL},
        "# TYPE http_requests_total counter\nhttp_requests_total " + std::to_string(total) + "\n");
  }
  scrapes.close();
  std::ofstream(dir + "/incident-recorded-20261122T000000Z.json")
      << R"({"status":"passed","meta":{"scenario":"recorded","tag":"t"},"bundle":{"dir":"bundle"}})";
  return tmp;
}

}  // namespace

TEST_CASE("a recorded run is judged from its bundle alone") {
  const Plan plan = compile_plan(two_phase_scenario(), {});
  const TempDir tmp = write_bundle(plan);
  const std::string& dir = tmp.path();
  const auto found = find_artifacts(dir, "recorded", "t");
  REQUIRE(found.size() == 1);
  CHECK(find_artifacts(dir, "recorded", "other").empty());
  const RecordedRun run = load_recorded_run(found[0]);
  CHECK(run.plan.plan_hash == plan.plan_hash);
  std::string note;
  const auto obs = recorded_observations(run, &note);
  CHECK(note.empty());
  const auto verdicts = judge_assertions(run.plan, *obs);
  REQUIRE(verdicts.size() == 5);
  CHECK(verdicts[0].status == judge::VerdictStatus::kPass);  // trigger p95 is 1.2 s
  CHECK(verdicts[1].status == judge::VerdictStatus::kPass);  // warmup p95 is 20 ms
  CHECK(verdicts[2].status == judge::VerdictStatus::kPass);  // 20 of 100 trigger requests failed
  CHECK(verdicts[3].status ==
        judge::VerdictStatus::kPass);  // the counter rose by 200 in the trigger
  CHECK(verdicts[4].status == judge::VerdictStatus::kPass);  // last 5 s: every latency 1.2 s
  CHECK(verdicts[2].observed[0].samples == 100);
  CHECK(status_of(verdicts) == RunStatus::kPassed);
}

TEST_CASE("the same recording fails assertions it does not support") {
  Scenario s = two_phase_scenario();
  s.assertions = {{"during(trigger): p95 > 2s", {}}, {"during(warmup): error_rate > 1%", {}}};
  const Plan plan = compile_plan(s, {});
  const TempDir tmp = write_bundle(plan);
  const std::string& dir = tmp.path();
  const RecordedRun run = load_recorded_run(dir + "/incident-recorded-20261122T000000Z.json");
  const auto obs = recorded_observations(run, nullptr);
  const auto verdicts = judge_assertions(run.plan, *obs);
  REQUIRE(verdicts.size() == 2);
  CHECK(verdicts[0].status == judge::VerdictStatus::kFail);
  CHECK(verdicts[0].message.find("1.2") != std::string::npos);
  CHECK(verdicts[1].status == judge::VerdictStatus::kFail);
  CHECK(status_of(verdicts) == RunStatus::kFailed);
}

TEST_CASE("an artifact without its bundle is refused with the path") {
  const TempDir tmp("nobundle");
  const std::string& dir = tmp.path();
  std::ofstream(dir + "/a.json") << R"({"meta":{},"bundle":{"dir":"gone"}})";
  CHECK_THROWS_WITH_AS(load_recorded_run(dir + "/a.json"), doctest::Contains("is missing"),
                       UsageError);
  std::ofstream(dir + "/b.json") << "[1,2]";
  CHECK_THROWS_WITH_AS(load_recorded_run(dir + "/b.json"), doctest::Contains("not a faultline"),
                       UsageError);
}
