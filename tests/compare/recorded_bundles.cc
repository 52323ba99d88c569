#include "recorded_bundles.h"
#include "common/file_io.h"

#include <filesystem>
#include <fstream>

#include "observe/sample_log.h"
#include "observe/scrape_log.h"
#include "plan/plan_json.h"
#include "report/report_json.h"

namespace faultline::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Scenario compare_scenario() {
  Scenario s;
  s.name = "cmp";
  s.seed = 9;
  s.target = "api";
  s.traffic.rate_per_s = 50;
  RouteSpec users, orders;
  users.name = "users";
  users.method = "GET";
  users.path_template = "/users/1";
  users.weight = 7;
  orders.name = "orders";
  orders.method = "POST";
  orders.path_template = "/orders";
  orders.weight = 3;
  s.traffic.routes = {users, orders};
  s.phases = {PhaseSpec{"warmup", 10s, std::nullopt, std::nullopt, {}, {}},
              PhaseSpec{"trigger", 10s, std::nullopt, std::nullopt, {}, {}}};
  s.observe.targets = {{"api", "/metrics"}};
  s.observe.interval = 5s;
  return s;
}

std::string write_recorded_run(const std::string& dir, const Plan& plan, const std::string& tag,
                               const std::string& stamp, const OutcomeFn& outcome,
                               uint64_t rng_seed, int counter_step) {
  const std::string stem = "incident-" + plan.scenario_name + "-" + stamp;
  const std::string bundle = dir + "/" + stem;
  fs::create_directories(bundle);
  write_file_atomically(bundle + "/plan.json", plan_to_json(plan, 0, true));
  Rng rng(rng_seed);
  {
    observe::SampleLogWriter samples(bundle + "/samples.csv.gz");
    const int64_t step_us = static_cast<int64_t>(1e6 / plan.base_rate);
    uint64_t seq = 0;
    for (int64_t t = 0; t < plan.total.count(); t += step_us, ++seq) {
      observe::SampleRecord r;
      r.seq = seq;
      r.request_id = "fl-" + std::to_string(plan.seed) + "-" + std::to_string(seq);
      const bool order = seq % 10 < 3;
      r.route = order ? "orders" : "users";
      r.method = order ? "POST" : "GET";
      r.path = order ? "/orders" : "/users/1";
      r.intended_us = t;
      r.sent_us = t;
      r.phase = plan.phase_at(Duration{t})->name;
      const RequestOutcome o = outcome(r.phase, r.route, rng);
      r.latency_us = o.error_class == "dropped" ? 0 : o.latency_us;
      r.status = o.error_class.empty() ? o.status : 0;
      r.error_class = o.error_class;
      samples.append(r);
    }
    samples.close();
  }
  observe::ScrapeLogWriter scrapes(bundle + "/scrapes.txt.gz");
  for (int64_t t = 0; t <= plan.total.count() / 1'000'000; t += 5) {
    scrapes.append_scrape("api", Duration{t * 1'000'000},
                          "# TYPE http_requests_total counter\nhttp_requests_total " +
                              std::to_string(counter_step * t) + "\n");
  }
  scrapes.close();
  const std::string artifact = dir + "/" + stem + ".json";
  std::ofstream(artifact) << R"({"status":"passed","meta":{"scenario":")" << plan.scenario_name
                          << R"(","tag":")" << tag << R"(","started_at":")" << stamp
                          << R"("},"bundle":{"dir":")" << stem << R"("}})";
  return artifact;
}

}  // namespace faultline::testing
