#include "recorded_fixture.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/file_io.h"
#include "observe/sample_log.h"
#include "observe/scrape_log.h"
#include "plan/compiler.h"
#include "plan/plan_json.h"

namespace faultline::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Plan recorded_test_plan() {
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
  s.assertions = {
      {"during(warmup): p95 < 100ms", {}},
      {"during(trigger): p95 > 800ms", {}},
      {"during(trigger): error_rate > 10%", {}},
      {"during(trigger): metric.increase(http_requests_total{job=\"api\"}) >= 100", {}}};
  s.compare = {{"during(warmup): p95 regresses by <= 10%", {}}};
  return compile_plan(s, {});
}

WrittenRun write_recorded_test_run(const std::string& dir, const Plan& plan,
                                   const RunOptions& options) {
  WrittenRun w;
  w.dir = dir;
  const std::string stem = "incident-" + plan.scenario_name + "-" + options.stamp;
  w.bundle = dir + "/" + stem;
  w.artifact = w.bundle + ".json";
  fs::create_directories(w.bundle);
  write_file_atomically(w.bundle + "/plan.json", plan_to_json(plan, 0, true) + "\n");
  {
    const std::string path = w.bundle + "/samples.csv.gz";
    observe::SampleLogWriter samples(path);
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
      r.latency_us = trigger ? 900'000 : 20'000;
      samples.append(r);
      if ((i + 1) % options.flush_every == 0) {
        samples.flush();
        w.sample_flushes.emplace_back(fs::file_size(path), i + 1);
      }
    }
    samples.close();
    w.samples = 200;
  }
  {
    const std::string path = w.bundle + "/scrapes.txt.gz";
    observe::ScrapeLogWriter scrapes(path);
    for (int t = 0; t <= 20; t += 5) {
      const int total = t <= 10 ? 10 * t : 100 + 20 * (t - 10);
      scrapes.append_scrape("api", Duration{t * 1'000'000LL},
                            "# TYPE http_requests_total counter\nhttp_requests_total " +
                                std::to_string(total) + "\n");
      ++w.scrapes;
      scrapes.flush();  // a scrape every 5 s, a flush every second: each one is flushed
      w.scrape_flushes.emplace_back(fs::file_size(path), w.scrapes);
    }
    scrapes.close();
  }
  std::ofstream(w.artifact) << R"({"status":")" << options.status
                            << R"(","meta":{"scenario":"recorded","tag":"t","started_at":")"
                            << "2026-11-22T00:00:00Z"
                            << R"(","planned_duration_us":20000000,"actual_duration_us":)"
                            << (options.status == "passed" ? "20000000" : "5000000")
                            << R"(},"bundle":{"dir":")" << stem << R"("}})";
  return w;
}

void cut_file(const std::string& path, uint64_t bytes) {
  fs::resize_file(path, bytes);
}

void overwrite_file(const std::string& path, uint64_t offset, const std::string& bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_test_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace faultline::testing
