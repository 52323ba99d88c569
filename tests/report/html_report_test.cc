// The HTML report's builders: escaping, time bins, chart geometry (band positions), and whole
// pages built from small artifacts and bundles written here.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "common/error.h"
#include "common/file_io.h"
#include "observe/sample_log.h"
#include "observe/scrape_log.h"
#include "report/html_report.h"
#include "report/svg_chart.h"
#include "temp_dir.h"

using namespace faultline;
using namespace std::chrono_literals;

namespace {

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

observe::SampleRecord sample(int64_t intended_us, int64_t latency_us, int status,
                             std::string error_class = "", std::string route = "orders") {
  observe::SampleRecord s;
  s.intended_us = intended_us;
  s.sent_us = intended_us;
  s.latency_us = latency_us;
  s.status = status;
  s.error_class = std::move(error_class);
  s.route = std::move(route);
  s.method = "GET";
  s.path = "/x";
  s.request_id = "r-" + std::to_string(intended_us);
  return s;
}

// A run artifact with two phases, one fault event and two assertions, whose bundle holds
// `samples` and scrapes of one target with a histogram, a counter and a gauge.
std::string write_run(const testing::TempDir& dir, const std::string& scenario,
                      const std::vector<observe::SampleRecord>& samples) {
  const std::string bundle = dir / "incident-x";
  std::filesystem::create_directories(bundle);
  {
    observe::SampleLogWriter w(bundle + "/samples.csv.gz");
    for (const auto& s : samples) w.append(s);
    w.close();
  }
  {
    observe::ScrapeLogWriter w(bundle + "/scrapes.txt.gz");
    for (int t = 0; t <= 10; ++t) {
      const int slow = t > 4 ? 10 * (t - 4) : 0;
      const std::string body =
          "# TYPE lat_seconds histogram\n"
          "lat_seconds_bucket{le=\"0.1\"} " +
          std::to_string(100 * t) + "\nlat_seconds_bucket{le=\"2\"} " +
          std::to_string(100 * t + slow) + "\nlat_seconds_bucket{le=\"+Inf\"} " +
          std::to_string(100 * t + slow) + "\nlat_seconds_count " + std::to_string(100 * t + slow) +
          "\nlat_seconds_sum 1\n# TYPE reqs_total counter\nreqs_total " + std::to_string(50 * t) +
          "\n# TYPE inflight gauge\ninflight " + std::to_string(t) + "\n";
      w.append_scrape("api", Duration(t * 1'000'000), body);
    }
    w.close();
  }
  write_file_atomically(
      bundle + "/plan.json",
      R"json({"observe":{"metrics":["lat_seconds","reqs_total","inflight"]}})json");
  const std::string artifact = dir / "incident-x.json";
  write_file_atomically(artifact, R"json({
    "schema_version": 1, "status": "failed", "exit_code": 1, "status_detail": "",
    "meta": {"scenario": ")json" + scenario +
                                      R"json(", "description": "d", "planned_duration_us": 10000000,
             "actual_duration_us": 10000000, "started_at": "2026-11-30T10:00:00Z", "seed": 1},
    "phases": [
      {"name": "warmup", "start_us": 0, "end_us": 4000000, "faults": {},
       "client": {"sent": 10, "achieved_rps": 2.5, "error_rate": 0,
                  "latency_ms": {"p50": 5, "p95": 9, "p99": 9, "max": 9}},
       "send_lateness_ms": {"p50": 0.1, "p99": 0.2, "max": 0.3}, "client_lagging": false,
       "routes": {"orders": {"sent": 10}}, "server": {"api": {"http_p95_ms": 9}}},
      {"name": "trigger", "start_us": 4000000, "end_us": 10000000, "faults": {"api": {"x": 1}},
       "client": {"sent": 10}, "routes": {}, "server": {}}],
    "fault_events": [{"at_us": 4000000, "phase": "trigger", "kind": "knobs", "target": "api",
                      "action": "apply", "state": {"delay_ms": 900}, "ok": true}],
    "assertions": [
      {"text": "during(trigger): p95 > 800ms", "status": "pass", "window": "during(trigger)",
       "window_start_us": 4000000, "window_end_us": 10000000, "message": "ok",
       "source": "specs/x.yaml:31:5",
       "observed": [{"what": "p95", "display": "900ms", "samples": 12, "note": ""}]
},
      {"text": "during(warmup): p95 < 10ms", "status": "fail", "window": "during(warmup)",
       "window_start_us": 0, "window_end_us": 4000000, "message": "no", "source": "specs/x.yaml:32:5",
       "observed": []}],
    "slowest_requests": [{"latency_us": 900000, "phase": "trigger", "route": "orders",
                          "method": "GET", "path": "/x?a=<b>", "status": 200, "request_id": "r1"}],
    "error_signatures": [{"signature": "GET /x -> 502", "count": 3, "example_request_id": "r2"}],
    "abort": {"triggered": false},
    "bundle": {
  "dir" : "incident-x", "files" : []
}
})json");
  return artifact;
}

}  // namespace

TEST_CASE("escape replaces the five HTML special characters") {
  CHECK(html::escape("<a href=\"x\">Tom's & co</a>") ==
        "&lt;a href=&quot;x&quot;&gt;Tom&#39;s &amp; co&lt;/a&gt;");
  CHECK(html::escape("plain ümlaut") == "plain ümlaut");
}

TEST_CASE("nice_ceiling rounds up to 1, 2 or 5 times a power of ten") {
  CHECK(html::nice_ceiling(0) == 1);
  CHECK(html::nice_ceiling(1512) == 2000);
  CHECK(html::nice_ceiling(0.3) == doctest::Approx(0.5));
  CHECK(html::nice_ceiling(50) == 50);
  CHECK(html::nice_ceiling(51) == 100);
}

TEST_CASE("client bins are one second wide, and wider for long runs") {
  html::ClientBins short_run(60s);
  CHECK(short_run.width() == 1s);
  CHECK(short_run.bins().size() == 60);
  html::ClientBins long_run(3600s, 900);
  CHECK(long_run.width() == 4s);
  CHECK(long_run.bins().size() == 900);
  html::ClientBins odd(61500ms, 900);
  CHECK(odd.bins().size() == 62);
}

TEST_CASE("client bins place samples by intended time and keep drops out of latency") {
  html::ClientBins b(10s);
  b.add(sample(2'500'000, 10'000, 200));
  b.add(sample(2'900'000, 30'000, 502));
  b.add(sample(2'100'000, 0, 0, "dropped"));
  b.add(sample(7'000'000, 5'000'000, 0, "timeout"));
  b.add(sample(99'000'000, 1'000, 200));  // past the end: the last bin
  const auto& bins = b.bins();
  CHECK(bins[2].latency.count() == 2);
  CHECK(bins[2].completed == 2);
  CHECK(bins[2].errors.at("5xx") == 1);
  CHECK(bins[2].errors.at("dropped") == 1);
  CHECK(bins[7].errors.at("timeout") == 1);
  CHECK(bins[7].completed == 0);
  CHECK(bins[7].latency.count() == 1);
  CHECK(bins[9].latency.count() == 1);
  CHECK(bins[0].latency.count() == 0);
  CHECK(html::error_class_of(sample(0, 1, 404)) == "4xx");
  CHECK(html::error_class_of(sample(0, 1, 200)).empty());
}

TEST_CASE("phase bands sit at their plan times on the x axis") {
  html::SvgChart c;
  c.id = "c1";
  c.title = "t";
  c.x_end_s = 60;
  c.bands = {{0, 15, "warmup"}, {15, 40, "trigger"}, {40, 60, "cool<down>"}};
  c.series = {{"p95", "#000", {{1, 10}, {2, std::nan("")}, {3, 30}}}};
  c.markers = {{15, "apply", "apply knobs api", false}};
  const auto g = html::chart_geometry(c);
  CHECK(g.x(0) == doctest::Approx(g.left));
  CHECK(g.x(60) == doctest::Approx(g.right));
  CHECK(g.x(15) == doctest::Approx(g.left + (g.right - g.left) * 0.25));
  CHECK(g.y_max == 50);
  const std::string svg = html::render_svg_chart(c);
  CHECK(count_of(svg, "class=\"phase-band\"") == 3);
  char expected[64];
  std::snprintf(expected, sizeof expected, "<rect x=\"%.1f\"", g.x(15));
  CHECK(svg.find(expected) != std::string::npos);
  CHECK(svg.find("cool&lt;down&gt;") != std::string::npos);
  CHECK(svg.find("cool<down>") == std::string::npos);
  // The NaN breaks the line: two moves, no line-to.
  const size_t d = svg.find(" d=\"");
  REQUIRE(d != std::string::npos);
  const std::string path = svg.substr(d + 4, svg.find('"', d + 4) - d - 4);
  CHECK(count_of(path, "M") == 2);
  CHECK(count_of(path, "L") == 0);
  CHECK(count_of(svg, "class=\"fault-marker\"") == 1);
  CHECK(svg.find("<title>apply knobs api</title>") != std::string::npos);
}

TEST_CASE("a run page has its charts, bands, assertions and tables, with every text escaped") {
  testing::TempDir dir("html-run");
  std::vector<observe::SampleRecord> samples;
  for (int i = 0; i < 100; ++i)
    samples.push_back(sample(i * 100'000, i >= 40 ? 900'000 : 5'000, i % 10 == 0 ? 503 : 200, "",
                             i % 2 ? "orders" : "users"));
  const std::string artifact = write_run(dir, "x<script>alert(1)</script>", samples);
  const std::string page = html::report_html(artifact);
  CHECK(page.find("<script") == std::string::npos);
  CHECK(page.find("x&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(page.find("/x?a=&lt;b&gt;") != std::string::npos);
  for (const char* id :
       {"chart-latency", "chart-latency-routes", "chart-throughput", "chart-errors",
        "chart-server-api-lat_seconds", "chart-server-api-reqs_total", "chart-server-api-inflight"})
    CHECK_MESSAGE(page.find(std::string("<svg id=\"") + id + "\"") != std::string::npos, id);
  const size_t charts = count_of(page, "<svg id=");
  CHECK(charts == 7);
  CHECK(count_of(page, "class=\"phase-band\"") == 2 * charts);
  CHECK(count_of(page, "class=\"fault-marker\"") == charts);
  CHECK(count_of(page, "<tr class=\"assertion\"") == 2);
  CHECK(page.find("data-status=\"fail\"") != std::string::npos);
  CHECK(page.find("specs/x.yaml:32:5") != std::string::npos);
  CHECK(page.find("GET /x -&gt; 502") != std::string::npos);
  CHECK(page.find("5xx") != std::string::npos);  // the errors chart has the 503s
  // Nothing to load: the only URL is the SVG namespace.
  const std::regex url("(src|href)=\"|url\\(|@import");
  CHECK_FALSE(std::regex_search(page, url));

  const std::string written = html::write_html_report(artifact);
  CHECK(written == dir / "incident-x.html");
  CHECK(read_whole_file(written) == page);
}

TEST_CASE("a long run's page is bounded by the bins, not by its samples") {
  testing::TempDir dir("html-long");
  std::vector<observe::SampleRecord> samples;
  // 3600 s of plan time (the artifact says 10 s; the phases decide the axis, so stretch it).
  for (int i = 0; i < 36'000; ++i) samples.push_back(sample(int64_t{i} * 100'000, 1000 + i, 200));
  const std::string artifact = write_run(dir, "long", samples);
  std::string text = *read_whole_file(artifact);
  text.replace(text.find("\"end_us\": 10000000"), 18, "\"end_us\": 3600000000");
  write_file_atomically(artifact, text);
  const std::string page = html::report_html(artifact);
  const size_t start = page.find("<svg id=\"chart-latency\"");
  REQUIRE(start != std::string::npos);
  const std::string svg = page.substr(start, page.find("</svg>", start) - start);
  const size_t points = count_of(svg, "L") + count_of(svg, "M");
  CHECK(points <= 3 * html::kMaxBins + 10);
  CHECK(page.size() < 400'000);
}

TEST_CASE("a bundle without its artifact gives the charts of the killed run") {
  testing::TempDir dir("html-bundle");
  std::vector<observe::SampleRecord> samples;
  for (int i = 0; i < 50; ++i) samples.push_back(sample(i * 100'000, 5'000, 200));
  write_run(dir, "killed", samples);
  std::filesystem::remove(dir / "incident-x.json");
  write_file_atomically(dir / "incident-x/plan.json",
                        R"json({"scenario": "killed", "total_us": 10000000,
                        "phases": [{"name": "warmup", "start_us": 0, "end_us": 4000000},
                                   {"name": "trigger", "start_us": 4000000, "end_us": 10000000}],
                        "observe": {"metrics": ["inflight"]}})json");
  const std::string page = html::report_html(dir / "incident-x/");
  CHECK(page.find("unfinished") != std::string::npos);
  CHECK(page.find("<svg id=\"chart-latency\"") != std::string::npos);
  CHECK(page.find("<svg id=\"chart-server-api-inflight\"") != std::string::npos);
  CHECK(count_of(page, "data-phase=\"trigger\"") == count_of(page, "<svg id="));
  CHECK(count_of(page, "<tr class=\"assertion\"") == 0);
  CHECK(html::html_path_for(dir / "incident-x/") == dir / "incident-x.html");
}

TEST_CASE("a comparison page shows the gates and the phases side by side") {
  testing::TempDir dir("html-compare");
  const std::string path = dir / "compare-x.json";
  write_file_atomically(path, R"json({"kind": "comparison", "status": "failed", "scenario": "x",
    "baseline": {"tag": "before", "artifact": "a.json"}, "candidate": {"tag": "after"},
    "gates": [{"statement": "during(trigger): mean improves by >= 30%", "status": "fail",
               "message": "m", "metric": "mean", "baseline": {"text": "10ms", "samples": 5},
               "candidate": {"text": "9ms", "samples": 5}, "improvement_text": "+10%",
               "interval": {"text": "-5% .. +20%"}, "significance": "no significant change"}],
    "phases": [{"name": "warmup", "metrics": [{"metric": "p95", "baseline": {"text": "1ms"},
                 "candidate": {"text": "2ms"}}]},
               {"name": "trigger", "metrics": [{"metric": "p95"}]}],
    "notes": ["n<1>"]})json");
  const std::string page = html::report_html(path);
  CHECK(page.find("id=\"gates\"") != std::string::npos);
  CHECK(page.find("-5% .. +20%") != std::string::npos);
  CHECK(page.find("<td>warmup</td>") != std::string::npos);
  CHECK(page.find("<td>trigger</td>") != std::string::npos);
  CHECK(page.find("n&lt;1&gt;") != std::string::npos);
}

TEST_CASE("a matrix page links each run's report relative to the matrix folder") {
  testing::TempDir dir("html-matrix");
  std::filesystem::create_directories(dir / "m/c1/r1");
  const std::string path = dir / "m/matrix.json";
  write_file_atomically(path, R"json({"matrix": "nightly", "summary": {"cells": 2, "met": 1},
    "cells": [{"id": "c1", "scenario": "s", "env": "e", "expect": "pass", "met": true,
               "runs": [{"status": "passed", "artifact": ")json" +
                                  dir / "m/c1/r1/incident-s-1.json" + R"json("}]},
              {"id": "c2", "met": false, "message": "did <not>", "runs": [{"status": "error",
               "artifact": ""}]}]})json");
  const std::string page = html::report_html(path);
  CHECK(page.find("href=\"c1/r1/incident-s-1.html\"") != std::string::npos);
  CHECK(count_of(page, "<td class=\"cell\"") == 2);
  CHECK(page.find("id=\"matrix-grid\"") != std::string::npos);
  CHECK(page.find("data-status=\"unmet\"") != std::string::npos);
  CHECK(page.find("did &lt;not&gt;") != std::string::npos);
}

TEST_CASE("a file that is no artifact is a usage error naming it") {
  testing::TempDir dir("html-bad");
  write_file_atomically(dir / "x.json", "{\"hello\": 1}");
  CHECK_THROWS_WITH_AS(html::report_html(dir / "x.json"),
                       doctest::Contains("x.json: not a run, comparison or matrix"),
                       faultline::UsageError);
  CHECK_THROWS_AS(html::report_html(dir / "missing.json"), faultline::UsageError);
}
