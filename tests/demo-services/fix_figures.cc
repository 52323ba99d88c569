// demo_fix_figures: the before/after numbers of the incident fixes, measured on the demo cluster.
// Not a test (it asserts nothing); a tool to run by hand:
//
//   build/tests/demo-services/demo_fix_figures [seconds per run, default 20] [rate, default 40]
//
// For each seed incident it starts the cluster twice - with the flags of envs/local.yaml (or
// envs/local-cascade.yaml) and with those of envs/local-fixed.yaml (or
// envs/local-cascade-fixed.yaml); keep the flag lists below in step with those files - switches
// the incident's fault on, drives open-loop traffic (the scenarios' mix: 70% GET /users/{id},
// 30% POST /orders, one thread per request at its scheduled time, latency from the scheduled
// time) and prints what the client and the services saw. "api mean in-flight" is the client's
// sum of latencies over the run's length (Little's law); "DB busy" is the time payment's
// threads spent in its DB (the thread-seconds a slow DB takes from it).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "demo_cluster.h"
#include "demo_test_helpers.h"

using namespace faultline::testing;
using Clock = std::chrono::steady_clock;

namespace {

struct Variant {
  const char* name;
  std::string payment_timeout;
  int payment_retries;
  std::vector<std::string> api_args;
  std::vector<std::string> payment_args;
};

struct Incident {
  const char* name;
  const char* faults;  // POST /__faults body at payment
  Variant before;
  Variant after;
};

// envs/local-fixed.yaml and envs/local-cascade-fixed.yaml.
const std::vector<std::string> kFixedApi = {"--idempotency",         "--deadline-propagation",
                                            "--payment-hedge-after", "200ms",
                                            "--retry-budget",        "20%"};
const std::vector<std::string> kFixedPayment = {"--idempotency", "--deadline-propagation"};

struct Sample {
  bool order = false;
  long status = 0;
  double latency_ms = 0;
};

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

// The sum of every series whose line starts with `prefix` (e.g. one label fixed, others free).
double sum_series(const std::string& exposition, const std::string& prefix) {
  double sum = 0;
  size_t pos = 0;
  while (pos < exposition.size()) {
    size_t end = exposition.find('\n', pos);
    if (end == std::string::npos) end = exposition.size();
    if (exposition.compare(pos, prefix.size(), prefix) == 0) {
      const size_t space = exposition.rfind(' ', end);
      if (space != std::string::npos && space > pos)
        sum += std::stod(exposition.substr(space + 1, end - space - 1));
    }
    pos = end + 1;
  }
  return sum;
}

void run(const Incident& incident, const Variant& v, int seconds, double rate) {
  DemoClusterOptions o;
  o.api_db_latency = "5ms";  // as envs/local.yaml
  o.payment_db_latency = "3ms";
  o.workers = 4;
  o.payment_timeout = v.payment_timeout;
  o.payment_retries = v.payment_retries;
  o.extra_api_args = v.api_args;
  o.extra_payment_args = v.payment_args;
  DemoCluster cluster(o);
  const std::string api = cluster.api_url();
  const std::string pay = cluster.payment_url();
  if (set_faults(pay, incident.faults).status != 200) {
    std::fprintf(stderr, "cannot set faults at payment\n");
    std::exit(3);
  }
  const int n = static_cast<int>(seconds * rate);
  std::vector<Sample> samples(static_cast<size_t>(n));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(n));
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    const auto at = start + std::chrono::microseconds(static_cast<int64_t>(i * 1e6 / rate));
    std::this_thread::sleep_until(at);  // open loop: the schedule, not the answers, sets the pace
    threads.emplace_back([&, i, at] {
      Sample& s = samples[static_cast<size_t>(i)];
      const std::string id = std::string(incident.name) + "-" + std::to_string(i);
      s.order = i % 10 < 3;
      faultline::HttpResponse r =
          s.order
              ? http_post(api + "/orders", order_body(i), {"X-Request-Id: " + id})
              : http_get(api + "/users/" + std::to_string(i % 1000 + 1), {"X-Request-Id: " + id});
      s.status = r.status;
      s.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - at).count();
    });
  }
  for (auto& t : threads) t.join();
  const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  // Let the work the api gave up on finish at payment before counting charges: a saturated
  // payment answers /metrics late, so ask with a long timeout until it is idle.
  auto metrics_of = [](const std::string& url) {
    faultline::HttpRequest r;
    r.url = url + "/metrics";
    r.timeout = std::chrono::seconds(60);
    return faultline::http_call(r).body;
  };
  wait_until(
      [&] { return metric_value(metrics_of(pay), "http_requests_in_flight").value_or(2) <= 1; },
      std::chrono::seconds(120), std::chrono::milliseconds(200));

  std::vector<double> orders;
  std::vector<double> all;
  double busy_s = 0;
  int order_5xx = 0;
  int orders_ok = 0;
  for (const auto& s : samples) {
    all.push_back(s.latency_ms);
    busy_s += s.latency_ms / 1000.0;
    if (!s.order) continue;
    orders.push_back(s.latency_ms);
    if (s.status >= 500 || s.status == 0) ++order_5xx;
    if (s.status == 201) ++orders_ok;
  }
  const std::string api_metrics = metrics_of(api);
  const std::string pay_metrics = metrics_of(pay);
  auto at = [](const std::string& text, const std::string& series) {
    return metric_value(text, series).value_or(0);
  };
  std::printf(
      "%-15s %-6s | orders p50 %4.0f p95 %4.0f p99 %4.0f ms, 5xx %5.1f%% | api mean "
      "in-flight %5.1f | payment /charge calls %4.0f, DB busy %5.1f s | retries %3.0f "
      "hedges %3.0f budget-refused %3.0f | charges %3.0f for %3d paid orders, replays "
      "%3.0f, abandoned %3.0f\n",
      incident.name, v.name, quantile(orders, 0.5), quantile(orders, 0.95), quantile(orders, 0.99),
      100.0 * order_5xx / static_cast<double>(orders.size()), busy_s / wall_s,
      sum_series(pay_metrics, R"(http_requests_total{route="/charge",)"),
      sum_series(pay_metrics, R"(dep_call_duration_seconds_sum{dependency="db",)"),
      at(api_metrics, R"(dep_retries_total{dependency="payment"})"),
      at(api_metrics, R"(dep_hedges_total{dependency="payment"})"),
      at(api_metrics, R"(dep_retry_budget_exhausted_total{dependency="payment"})"),
      at(pay_metrics, R"(charges_total{outcome="captured"})"), orders_ok,
      at(pay_metrics, "idempotent_replays_total"),
      sum_series(pay_metrics, "deadline_abandoned_total{"));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 20;
  const double rate = argc > 2 ? std::atof(argv[2]) : 40;
  if (seconds < 1 || rate <= 0) {
    std::fprintf(stderr, "usage: demo_fix_figures [seconds per run] [requests per second]\n");
    return 2;
  }
  const Variant local{"before", "2s", 0, {}, {}};
  const Variant fixed{"after", "2s", 1, kFixedApi, kFixedPayment};
  const Variant cascade{"before", "300ms", 2, {}, {}};
  const Variant cascade_fixed{"after", "300ms", 2, kFixedApi, kFixedPayment};
  const std::vector<Incident> incidents = {
      {"latency-tail", R"({"payment_latency_ms_add": 1500, "payment_latency_pct": 10})", local,
       fixed},
      {"error-storm", R"({"payment_fail_rate": 0.2})", local, fixed},
      {"timeout-cascade", R"({"db_latency_ms_add": 800})", cascade, cascade_fixed},
  };
  std::printf("%d s at %.0f requests/s per run (30%% orders)\n", seconds, rate);
  for (const auto& incident : incidents) {
    run(incident, incident.before, seconds, rate);
    run(incident, incident.after, seconds, rate);
  }
  return 0;
}
