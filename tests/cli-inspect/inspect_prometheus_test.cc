// `faultline inspect --query` against Debian's prometheus scraping two demo services on
// loopback: instant and range queries read what Prometheus holds, and an expression
// Prometheus refuses is exit 1 with its reason.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <set>
#include <string>

#include "demo_cluster.h"
#include "inspect_run.h"
#include "prometheus_server.h"

using namespace faultline;
using namespace faultline::testing;
using namespace std::chrono_literals;

TEST_CASE("inspect --query reads instant and range answers from a real Prometheus") {
  DemoClusterOptions options;
  options.start_worker = false;
  DemoCluster cluster(options);
  TempDir dir("inspect-prometheus");
  PrometheusServer prometheus(dir,
                              {{"api", cluster.api_url()}, {"payment", cluster.payment_url()}});
  REQUIRE_MESSAGE(wait_until([&] { return prometheus.count_up("up") == 2; }, 20s, 200ms),
                  "prometheus never scraped both services: " << prometheus.process->log_tail());

  const Inspected instant = run_inspect({prometheus.url, "--query", "up", "--format", "json"});
  INFO(instant.err);
  REQUIRE(instant.exit_code == 0);
  rapidjson::Document d;
  d.Parse(instant.out.c_str());
  REQUIRE(d.IsObject());
  CHECK(std::string(d["result_type"].GetString()) == "vector");
  std::set<std::string> jobs;
  for (const auto& s : d["series"].GetArray()) {
    CHECK(std::string(s["name"].GetString()) == "up");
    CHECK(s["value"].GetDouble() == 1);
    jobs.insert(s["labels"]["job"].GetString());
  }
  CHECK(jobs == std::set<std::string>{"api", "payment"});

  const Inspected text =
      run_inspect({"--prometheus", prometheus.url, "--query", "up{job=\"api\"}"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("  up{instance=\"" + cluster.api_url().substr(7) + "\",job=\"api\"}  1\n") !=
        std::string::npos);
  CHECK(text.out.find("\n1 series\n") != std::string::npos);

  // Over the last 3 s at a 1 s step: 4 evaluation times, each sees up == 1 once Prometheus has
  // scraped payment for longer than that (5 samples within 10 s: the first over 4 s ago).
  REQUIRE(wait_until(
      [&] { return prometheus.count_up("count_over_time(up{job=\"payment\"}[10s]) > bool 4"); },
      20s, 200ms));
  const Inspected range = run_inspect({prometheus.url, "--query", "up{job=\"payment\"}", "--range",
                                       "3s", "--step", "1s", "--format", "json"});
  INFO(range.err);
  REQUIRE(range.exit_code == 0);
  d.Parse(range.out.c_str());
  REQUIRE(d.IsObject());
  CHECK(std::string(d["result_type"].GetString()) == "matrix");
  REQUIRE(d["series"].Size() == 1);
  const auto& s = d["series"][0];
  CHECK(s["points"].GetUint64() == 4);
  CHECK(s["min"].GetDouble() == 1);
  CHECK(s["max"].GetDouble() == 1);
  CHECK(s["last"].GetDouble() == 1);

  const Inspected bad = run_inspect({prometheus.url, "--query", "rate(up[1m]"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("bad_data") != std::string::npos);
}
