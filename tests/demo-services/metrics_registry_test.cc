// The demo's registry over prometheus-cpp: positional label values, registration checks, the
// exposition prometheus-cpp's TextSerializer writes (escaping, cumulative buckets) and hooks.
#include "metrics/metrics_registry.h"

#include <doctest/doctest.h>

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
  c.with({"a"}).Increment();
  c.with({"a"}).Increment(2);
  c.with({"b"}).Increment(0.5);
  r.gauge("temperature", "Current temperature.").with({}).Set(-3.25);
  const std::string text = r.render();
  CHECK(contains(text,
                 "# HELP things_total Things counted.\n"
                 "# TYPE things_total counter\n"));
  CHECK(contains(text, "things_total{kind=\"a\"} 3\n"));
  CHECK(contains(text, "things_total{kind=\"b\"} 0.5\n"));
  CHECK(contains(text,
                 "# HELP temperature Current temperature.\n"
                 "# TYPE temperature gauge\n"
                 "temperature -3.25\n"));
}

TEST_CASE("metrics: positional values map to the family's label names") {
  MetricsRegistry r;
  auto& c = r.counter("requests_total", "x", {"route", "method", "status"});
  c.with({"/orders", "POST", "201"}).Increment();
  // The same values give the same child; label pairs render sorted by name.
  CHECK(&c.with({"/orders", "POST", "201"}) == &c.with({"/orders", "POST", "201"}));
  CHECK(
      contains(r.render(), "requests_total{method=\"POST\",route=\"/orders\",status=\"201\"} 1\n"));
}

TEST_CASE("metrics: label values and HELP are escaped") {
  MetricsRegistry r;
  r.counter("escapes_total", "Backslash \\ and\nnewline; \"quotes\" stay.", {"v"})
      .with({"a\\b\"c\nd"})
      .Increment();
  const std::string text = r.render();
  CHECK(contains(text, "# HELP escapes_total Backslash \\\\ and\\nnewline; \"quotes\" stay.\n"));
  CHECK(contains(text, "escapes_total{v=\"a\\\\b\\\"c\\nd\"} 1\n"));
}

TEST_CASE("metrics: histogram buckets are cumulative and end with +Inf, _sum and _count") {
  MetricsRegistry r;
  auto& h = r.histogram("latency_seconds", "Latency.", {"route"}, {0.1, 0.3, 0.8, 1.5});
  auto& child = h.with({"/users/{id}"});
  child.Observe(0.05);
  child.Observe(0.1);  // le is inclusive: lands in the 0.1 bucket
  child.Observe(0.2);
  child.Observe(0.9);
  child.Observe(7);
  const std::string text = r.render();
  CHECK(contains(text, "# TYPE latency_seconds histogram\n"));
  CHECK(contains(text, "latency_seconds_bucket{route=\"/users/{id}\",le=\"0.1\"} 2\n"));
  CHECK(contains(text, "latency_seconds_bucket{route=\"/users/{id}\",le=\"0.3\"} 3\n"));
  CHECK(contains(text, "latency_seconds_bucket{route=\"/users/{id}\",le=\"0.8\"} 3\n"));
  CHECK(contains(text, "latency_seconds_bucket{route=\"/users/{id}\",le=\"1.5\"} 4\n"));
  CHECK(contains(text, "latency_seconds_bucket{route=\"/users/{id}\",le=\"+Inf\"} 5\n"));
  CHECK(contains(text, "latency_seconds_sum{route=\"/users/{id}\"} 8.25\n"));
  CHECK(contains(text, "latency_seconds_count{route=\"/users/{id}\"} 5\n"));
}

TEST_CASE("metrics: the latency buckets render as their exact decimal bounds") {
  MetricsRegistry r;
  r.histogram("lat_seconds", "x", {}, faultline::demo::latency_buckets_seconds())
      .with({})
      .Observe(0.2);
  const std::string text = r.render();
  for (const char* le :
       {"0.001", "0.0025", "0.075", "0.1", "0.15", "0.3", "0.65", "0.8", "1.25", "1.5", "30"})
    CHECK_MESSAGE(contains(text, "lat_seconds_bucket{le=\"" + std::string(le) + "\"}"),
                  "no bucket le=" << le);
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
  CHECK_THROWS_AS(r.counter("dup_total", "x"), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("h1_seconds", "x", {"le"}, {1}), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("h2_seconds", "x", {}, {1, 1}), std::invalid_argument);
  CHECK_THROWS_AS(r.histogram("h3_seconds", "x", {}, {}), std::invalid_argument);
  auto& c = r.counter("labels_total", "x", {"a", "b"});
  CHECK_THROWS_AS(c.with({"only-one"}), std::invalid_argument);
}

TEST_CASE("metrics: a family renders once it has a child, at 0 when created without increments") {
  MetricsRegistry r;
  auto& c = r.counter("later_total", "x", {"dependency"});
  CHECK_FALSE(contains(r.render(), "later_total"));
  c.with({"payment"});
  CHECK(contains(r.render(), "later_total{dependency=\"payment\"} 0\n"));
}

TEST_CASE("metrics: collect hooks run before rendering") {
  MetricsRegistry r;
  auto& g = r.gauge("sampled", "Sampled at scrape.").with({});
  int calls = 0;
  r.add_collect_hook([&] { g.Set(++calls); });
  CHECK(r.render().find("sampled 1\n") != std::string::npos);
  CHECK(r.render().find("sampled 2\n") != std::string::npos);
}
