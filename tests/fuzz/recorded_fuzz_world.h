// The world of the bundle-reader fuzz targets (fuzz_sample_log, fuzz_scrape_log): a bundle in
// a private temporary directory (removed at exit) with a valid plan.json and valid logs,
// written once. Each input replaces one log, and the bundle is read back the way
// `faultline judge` reads it (RunObservations::load_recorded_logs) and judged.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "observe/sample_log.h"
#include "observe/scrape_log.h"
#include "plan/compiler.h"
#include "recorded/bundle.h"
#include "recorded/recorded_run.h"
#include "report/summary.h"
#include "temp_dir.h"

namespace fuzz_world {

inline void check(bool ok) {
  if (!ok) std::abort();
}

struct World {
  faultline::Plan plan;
  std::vector<faultline::judge::TimeWindow> windows;
  faultline::BundleLayout bundle;
};

// Two phases with client and server assertions over whole phases and sub-windows.
inline faultline::Plan world_plan() {
  using namespace std::chrono_literals;
  faultline::Scenario s;
  s.name = "fuzz";
  s.seed = 1;
  s.target = "api";
  s.traffic.rate_per_s = 10;
  faultline::RouteSpec r;
  r.name = "orders";
  r.method = "POST";
  r.path_template = "/orders";
  s.traffic.routes = {r};
  s.phases = {faultline::PhaseSpec{"warmup", 2s, std::nullopt, std::nullopt, {}, {}},
              faultline::PhaseSpec{"trigger", 2s, std::nullopt, std::nullopt, {}, {}}};
  s.observe.targets = {{"api", "/metrics"}};
  s.observe.interval = 1s;
  s.assertions = {
      {"during(trigger): p95 > 100ms", {}},
      {"during(warmup): error_rate(status=5xx) < 10%", {}},
      {"during(trigger, last 1s): p99(route=orders) > 1ms", {}},
      {"during(trigger): rps >= 1", {}},
      {"during(trigger): metric.increase(http_requests_total{job=\"api\"}) >= 1", {}},
      {"during(trigger): metric.p95(http_request_duration_seconds{job=~\"a.*\"}) < 1s", {}},
      {"during(warmup): metric.max(queue_depth) < 10", {}}};
  return faultline::compile_plan(s, {});
}

inline const World& world() {
  static const World w = [] {
    World made;
    made.plan = world_plan();
    made.windows = faultline::judging_windows(made.plan);
    // A static constructed while the World is being built outlives it (statics are destroyed
    // in reverse order of construction), so the bundle is removed after the World is gone.
    static const faultline::testing::TempDir dir("fuzz-bundle");
    made.bundle.dir = dir.path();
    faultline::write_bundle_plan(made.bundle, made.plan);
    faultline::observe::SampleLogWriter samples(made.bundle.samples());
    for (int i = 0; i < 40; ++i) {
      faultline::observe::SampleRecord r;
      r.seq = static_cast<uint64_t>(i);
      r.request_id = "fl-1-" + std::to_string(i);
      r.route = "orders";
      r.method = "POST";
      r.path = "/orders";
      r.intended_us = i * 100'000;
      r.sent_us = r.intended_us + 10;
      r.latency_us = 1000 + i * 5000;
      r.status = i % 7 == 0 ? 503 : 200;
      r.phase = i < 20 ? "warmup" : "trigger";
      samples.append(r);
    }
    samples.close();
    faultline::observe::ScrapeLogWriter scrapes(made.bundle.scrape_log());
    for (int t = 0; t <= 4; ++t)
      scrapes.append_scrape("api", faultline::Duration{t * 1'000'000LL},
                            "http_requests_total " + std::to_string(t * 10) +
                                "\nhttp_request_duration_seconds_bucket{le=\"0.1\"} " +
                                std::to_string(t * 5) +
                                "\nhttp_request_duration_seconds_bucket{le=\"+Inf\"} " +
                                std::to_string(t * 9) + "\nqueue_depth 3\n");
    scrapes.close();
    return made;
  }();
  return w;
}

// Writes `bytes` as the file at `path` (replacing it).
inline void put_file(const std::string& path, std::string_view bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  check(f != nullptr);
  check(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size());
  check(std::fclose(f) == 0);
}

// Reads the world's bundle as judge does and judges it. A problem must be a UsageError naming
// `file` (the log under test); anything else escapes and stops the fuzzer.
inline void load_and_judge(const std::string& file) {
  const World& w = world();
  faultline::RunObservations obs(w.plan, w.windows, w.plan.metrics_of_interest);
  try {
    const faultline::RecordedLogs logs = obs.load_recorded_logs(w.bundle.dir);
    check(logs.cut() == !logs.describe_cut().empty());
  } catch (const faultline::UsageError& e) {
    check(std::string_view(e.what()).find(file) != std::string_view::npos);
    return;
  }
  const auto verdicts = faultline::judge_assertions(w.plan, obs);
  check(verdicts.size() == w.plan.assertions.size());
  (void)faultline::status_of(verdicts);
}

}  // namespace fuzz_world
