#include "metrics/metrics_registry.h"

#include <doctest/doctest.h>

#include <limits>
#include <stdexcept>
#include <string>

using faultline::demo::MetricsRegistry;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("metrics: counter and gauge exposition with HELP and TYPE") {
  MetricsRegistry r;
  auto& c = r.counter("things_total", "Things counted.", {"kind"});
  c.with({"a"}).inc();
  c.with({"a"}).inc(2);
  c.with({"b"}).inc(0.5);
  r.gauge("temperature", "Current temperature.").with({}).set(-3.25);
  const std::string text = r.render();
  CHECK(text ==
        "# HELP things_total Things counted.\n"
        "# TYPE things_total counter\n"
        "things_total{kind=\"a\"} 3\n"
        "things_total{kind=\"b\"} 0.5\n"
        "# HELP temperature Current temperature.\n"
        "# TYPE temperature gauge\n"
        "temperature -3.25\n");
}

TEST_CASE("metrics: label values and HELP are escaped") {
  MetricsRegistry r;
  r.counter("escapes_total", "Backslash \\ and\nnewline; \"quotes\" stay.", {"v"})
      .with({"a\\b\"c\nd"})
      .inc();
  const std::string text = r.render();
  CHECK(contains(text, "# HELP escapes_total Backslash \\\\ and\\nnewline; \"quotes\" stay.\n"));
  CHECK(contains(text, "escapes_total{v=\"a\\\\b\\\"c\\nd\"} 1\n"));
  CHECK(faultline::demo::escape_label_value("plain") == "plain");
  CHECK(faultline::demo::escape_help("x\\y") == "x\\\\y");
}

TEST_CASE("metrics: histogram buckets are cumulative and end with +Inf, _sum and _count") {
  MetricsRegistry r;
  auto& h = r.histogram("latency_seconds", "Latency.", {"route"}, {0.1, 0.3, 0.8, 1.5});
  auto& child = h.with({"/users/{id}"});
  child.observe(0.05);
  child.observe(0.1);  // le is inclusive: lands in the 0.1 bucket
  child.observe(0.2);
  child.observe(0.9);
  child.observe(7);
  const std::string text = r.render();
  CHECK(contains(text, "# TYPE latency_seconds histogram\n"));
  CHECK(contains(text, "latency_seconds_bucket{route=\"/users/{id}\",le=\"0.1\"} 2\n"));
  CHECK(contains(text, "latency_seconds_bucket{route=\"/users/{id}\",le=\"0.3\"} 3\n"));
  CHECK(contains(text, "latency_seconds_bucket{route=\"/users/{id}\",le=\"0.8\"} 3\n"));
  CHECK(contains(text, "latency_seconds_bucket{route=\"/users/{id}\",le=\"1.5\"} 4\n"));
  CHECK(contains(text, "latency_seconds_bucket{route=\"/users/{id}\",le=\"+Inf\"} 5\n"));
  CHECK(contains(text, "latency_seconds_sum{route=\"/users/{id}\"} 8.25\n"));
  CHECK(contains(text, "latency_seconds_count{route=\"/users/{id}\"} 5\n"));
  const auto snap = child.snapshot();
  REQUIRE(snap.cumulative.size() == 5);
  for (size_t i = 1; i < snap.cumulative.size(); ++i)
    CHECK(snap.cumulative[i] >= snap.cumulative[i - 1]);
  CHECK(snap.cumulative.back() == snap.count);
}

TEST_CASE("metrics: latency buckets separate 100ms, 300ms, 800ms and 1.5s") {
  const auto& b = faultline::demo::latency_buckets_seconds();
  for (double edge : {0.1, 0.3, 0.8, 1.5}) {
    bool found = false;
    for (double x : b) found = found || x == edge;
    CHECK_MESSAGE(found, "no bucket bound at " << edge);
  }
}

TEST_CASE("metrics: registration rejects bad names, duplicates and bad buckets") {
  MetricsRegistry r;
  CHECK_THROWS_AS(r.counter("1bad", "x"), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("bad-name", "x"), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("ok_total", "x", {"__reserved"}), std::invalid_argument);
  CHECK_THROWS_AS(r.counter("ok2_total", "x", {"a", "a"}), std::invalid_argument);
  r.counter("dup_total", "x");
  CHECK_THROWS_AS(r.gauge("dup_total", "x"), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("h1_seconds", "x", {"le"}, {1}), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("h2_seconds", "x", {}, {1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("h3_seconds", "x", {}, {}), std::invalid_argument);
  auto& c = r.counter("labels_total", "x", {"a", "b"});
  CHECK_THROWS_AS(c.with({"only-one"}), std::invalid_argument);
  CHECK_THROWS_AS(c.with({"a", "b"}).inc(-1), std::invalid_argument);
}

TEST_CASE("metrics: sample values render as shortest decimals and special values") {
  using faultline::demo::format_sample_value;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  CHECK(format_sample_value(1) == "1");
  CHECK(format_sample_value(0.1) == "0.1");
  CHECK(format_sample_value(1e21) == "1e+21");
  CHECK(format_sample_value(kInf) == "+Inf");
  CHECK(format_sample_value(-kInf) == "-Inf");
  CHECK(format_sample_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
}

TEST_CASE("metrics: collect hooks run before rendering") {
  MetricsRegistry r;
  auto& g = r.gauge("sampled", "Sampled at scrape.").with({});
  int calls = 0;
  r.add_collect_hook([&] { g.set(++calls); });
  CHECK(r.render().find("sampled 1\n") != std::string::npos);
  CHECK(r.render().find("sampled 2\n") != std::string::npos);
}
