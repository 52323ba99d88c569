// Benchmark driver for faultline's load path: runs the LoadEngine open-loop at a constant rate
// against one URL, records every sample (latency from the intended time, send lateness) in a
// counting histogram, and prints key=value lines with requests/s and its own CPU time
// (getrusage), for bench/loadgen-vs-wrk to compare with wrk. Not a test: it prints figures.
#include <dirent.h>
#include <sys/resource.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <cxxopts.hpp>

#include "common/units.h"
#include "net/http_call.h"
#include "proc/child_process.h"
#include "run/load_engine.h"

namespace {

using faultline::Duration;
using Clock = std::chrono::steady_clock;

// Counts values in buckets with about 0.2% relative width (1 us below 1024 us): enough to read
// quantiles, constant memory, no allocation per sample.
class CountingHistogram {
 public:
  CountingHistogram() : counts_(1024 + 54 * 512, 0) {}
  void add(int64_t value) {
    ++counts_[bucket(value < 0 ? 0 : static_cast<uint64_t>(value))];
    ++total_;
    max_ = std::max(max_, value);
  }
  uint64_t total() const { return total_; }
  int64_t max() const { return max_; }
  // Lower bound of the bucket holding the q-quantile (nearest rank).
  int64_t quantile(double q) const {
    if (total_ == 0) return 0;
    const auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_)));
    uint64_t seen = 0;
    for (size_t b = 0; b < counts_.size(); ++b) {
      seen += counts_[b];
      if (seen >= std::max<uint64_t>(rank, 1)) return lower_bound(b);
    }
    return max_;
  }

 private:
  static size_t bucket(uint64_t v) {
    if (v < 1024) return static_cast<size_t>(v);
    const int msb = 63 - __builtin_clzll(v);  // >= 10
    const int shift = msb - 9;                // keep 10 significant bits
    return 1024 + static_cast<size_t>(msb - 10) * 512 + static_cast<size_t>((v >> shift) - 512);
  }
  static int64_t lower_bound(size_t b) {
    if (b < 1024) return static_cast<int64_t>(b);
    const size_t msb = (b - 1024) / 512 + 10;
    const uint64_t mantissa = (b - 1024) % 512 + 512;
    return static_cast<int64_t>(mantissa << (msb - 9));
  }
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  int64_t max_ = 0;
};

// Constant-rate arrivals, those with seq % of == part (one source per loop thread, as
// ArrivalSource shares them out); strings are assigned into the engine's recycled request, so
// warm arrivals allocate nothing.
class ConstantRateSource : public faultline::RequestSource {
 public:
  ConstantRateSource(std::string url, double rate_per_s, uint64_t count, uint32_t part = 0,
                     uint32_t of = 1)
      : url_(std::move(url)), rate_(rate_per_s), count_(count), seq_(part), step_(of) {}
  bool next(faultline::PlannedRequest& out) override {
    if (seq_ >= count_) return false;
    out.seq = seq_;
    out.intended = Duration(std::llround(static_cast<double>(seq_) * 1e6 / rate_));
    out.url.assign(url_);
    char id[32] = "bench-";
    const auto end = std::to_chars(id + 6, id + sizeof id, seq_).ptr;
    out.request_id.assign(id, end);
    seq_ += step_;
    return true;
  }

 private:
  std::string url_;
  double rate_;
  uint64_t count_;
  uint64_t seq_;
  uint64_t step_;
};

class HistogramSink : public faultline::SampleSink {
 public:
  void on_sample(const faultline::RequestSample& s) override {
    if (s.error_class.empty()) {
      latency.add(s.latency_us);
      ++ok;
    } else if (s.error_class == "dropped") {
      ++dropped;
      return;
    } else {
      ++errors;
    }
    lateness.add(s.sent_us - s.intended_us);
    last_completion_us = std::max(last_completion_us, s.intended_us + s.latency_us);
  }
  CountingHistogram latency, lateness;
  uint64_t ok = 0, errors = 0, dropped = 0;
  int64_t last_completion_us = 0;
};

// Nanoseconds this process's threads spent runnable but waiting for a CPU (schedstat field 2):
// send lateness on a busy machine is mostly this, not the engine.
uint64_t runqueue_wait_ns() {
  uint64_t total = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream in(std::string("/proc/self/task/") + e->d_name + "/schedstat");
      uint64_t on_cpu = 0, waiting = 0;
      if (in >> on_cpu >> waiting) total += waiting;
    }
    closedir(dir);
  }
  return total;
}

double cpu_seconds(const rusage& r, bool user) {
  const timeval& t = user ? r.ru_utime : r.ru_stime;
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

void print_histogram(const char* name, const CountingHistogram& h) {
  std::printf("%s_us p50=%lld p90=%lld p99=%lld p999=%lld max=%lld\n", name,
              static_cast<long long>(h.quantile(0.50)), static_cast<long long>(h.quantile(0.90)),
              static_cast<long long>(h.quantile(0.99)), static_cast<long long>(h.quantile(0.999)),
              static_cast<long long>(h.max()));
}

int run(const cxxopts::ParseResult& args) {
  const auto duration = faultline::parse_duration(args["duration"].as<std::string>());
  if (!duration || duration->count() <= 0) {
    std::cerr << "loadgen_driver: --duration must be a duration such as 10s\n";
    return 2;
  }
  const double rate = args["rate"].as<double>();
  if (rate <= 0) {
    std::cerr << "loadgen_driver: --rate must be positive\n";
    return 2;
  }
  const auto connections = args["connections"].as<uint32_t>();
  const auto max_in_flight =
      args.count("max-in-flight") ? args["max-in-flight"].as<uint32_t>() : connections;
  const auto count =
      static_cast<uint64_t>(std::llround(rate * static_cast<double>(duration->count()) / 1e6));

  faultline::LoadEngineOptions options;
  options.threads = args["threads"].as<uint32_t>();
  options.arrival_batch = std::chrono::microseconds(args["arrival-batch-us"].as<int64_t>());
  options.max_in_flight = max_in_flight;
  options.max_connections = connections;
  faultline::LoadEngine engine(options);
  std::vector<std::unique_ptr<ConstantRateSource>> sources;
  std::vector<faultline::RequestSource*> parts;
  for (uint32_t k = 0; k < options.threads; ++k) {
    sources.push_back(std::make_unique<ConstantRateSource>(args["url"].as<std::string>(), rate,
                                                           count, k, options.threads));
    parts.push_back(sources.back().get());
  }
  HistogramSink sink;  // the engine serializes its calls

  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  const uint64_t waited_before_ns = runqueue_wait_ns();
  engine.start(Clock::now() + std::chrono::milliseconds(50), parts, sink);
  while (!engine.wait_traffic_done(std::chrono::milliseconds(500))) {
  }
  const uint64_t waited_ns = runqueue_wait_ns() - waited_before_ns;  // loop thread still alive
  const auto result = engine.finish();
  getrusage(RUSAGE_SELF, &after);

  const double user = cpu_seconds(after, true) - cpu_seconds(before, true);
  const double sys = cpu_seconds(after, false) - cpu_seconds(before, false);
  const uint64_t done = sink.ok + sink.errors;
  const double seconds = static_cast<double>(sink.last_completion_us) / 1e6;
  std::printf(
      "rate=%.1f planned=%llu ok=%llu errors=%llu dropped=%llu seconds=%.3f rps=%.1f "
      "cpu_user_s=%.3f cpu_sys_s=%.3f cpu_us_per_request=%.2f runqueue_wait_ms=%.1f "
      "involuntary_switches=%ld\n",
      rate, static_cast<unsigned long long>(result.counters.arrivals),
      static_cast<unsigned long long>(sink.ok), static_cast<unsigned long long>(sink.errors),
      static_cast<unsigned long long>(sink.dropped), seconds,
      seconds > 0 ? static_cast<double>(done) / seconds : 0.0, user, sys,
      done > 0 ? (user + sys) * 1e6 / static_cast<double>(done) : 0.0,
      static_cast<double>(waited_ns) / 1e6, after.ru_nivcsw - before.ru_nivcsw);
  print_histogram("latency", sink.latency);
  print_histogram("lateness", sink.lateness);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options opts("loadgen_driver",
                        "Runs faultline's open-loop load engine at a constant rate against one URL "
                        "and prints requests/s, CPU per request, latency and send lateness.");
  opts.add_options()("url", "target URL", cxxopts::value<std::string>())(
      "rate", "arrivals per second", cxxopts::value<double>()->default_value("1000"))(
      "duration", "length of the arrival schedule, e.g. 10s",
      cxxopts::value<std::string>()->default_value("10s"))(
      "connections", "traffic connection cap", cxxopts::value<uint32_t>()->default_value("64"))(
      "threads", "event loops (traffic.threads)", cxxopts::value<uint32_t>()->default_value("1"))(
      "arrival-batch-us", "LoadEngineOptions::arrival_batch in microseconds",
      cxxopts::value<int64_t>()->default_value(
          std::to_string(faultline::LoadEngineOptions{}.arrival_batch.count())))(
      "max-in-flight", "outstanding request cap (default: --connections)",
      cxxopts::value<uint32_t>())("free-port", "print a free 127.0.0.1 port and exit")(
      "wait-url", "wait up to 5 s until this URL answers 200, then exit (rc 1 if it does not)",
      cxxopts::value<std::string>())("h,help", "show this help");
  try {
    const auto args = opts.parse(argc, argv);
    if (args.count("help")) {
      std::cout << opts.help() << "\n";
      return 0;
    }
    if (args.count("free-port")) {
      std::cout << faultline::pick_free_port() << "\n";
      return 0;
    }
    if (args.count("wait-url")) {
      faultline::HttpRequest probe;
      probe.url = args["wait-url"].as<std::string>();
      probe.timeout = std::chrono::milliseconds(500);
      const auto deadline = Clock::now() + std::chrono::seconds(5);
      while (Clock::now() < deadline) {
        if (faultline::http_call(probe).ok()) return 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      return 1;
    }
    if (!args.count("url")) {
      std::cerr << "loadgen_driver: --url is required (see --help)\n";
      return 2;
    }
    return run(args);
  } catch (const std::exception& e) {
    std::cerr << "loadgen_driver: " << e.what() << "\n";
    return 2;
  }
}
