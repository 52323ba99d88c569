#include "observe/scrape_store.h"

#include <doctest/doctest.h>

#include <malloc.h>

#include <chrono>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "common/rng.h"
#include "observe/histogram_quantile.h"
#include "promtool_oracle.h"

using faultline::Duration;
using faultline::observe::GaugeFunction;
using faultline::observe::HistogramBucket;
using faultline::observe::LabelMatcher;
using faultline::observe::MatchOp;
using faultline::observe::ScrapeStore;
using faultline::observe::SeriesCombine;
using faultline::observe::SeriesSelector;
using faultline::observe::TimeWindow;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Duration s(double seconds) {
  return Duration{static_cast<int64_t>(seconds * 1e6)};
}

TimeWindow window(double start, double end) {
  return {s(start), s(end)};
}

void scrape(ScrapeStore& store, const std::string& job, double at, const std::string& text) {
  const auto error = store.add_scrape_text(job, s(at), text);
  REQUIRE_MESSAGE(!error, error.value_or(""));
}

SeriesSelector sel(std::string metric, std::vector<LabelMatcher> matchers = {}) {
  return {std::move(metric), std::move(matchers)};
}

}  // namespace

TEST_CASE("scrape store: counter increase handles resets and follows the window rule") {
  ScrapeStore store;
  // t=0: 10, t=1: 15, t=2: 3 (the process restarted), t=3: 8
  const double values[] = {10, 15, 3, 8};
  for (int t = 0; t < 4; ++t) {
    scrape(store, "api", t,
           "# TYPE req_total counter\nreq_total " + std::to_string(values[t]) + "\n");
  }
  auto inc = [&](double a, double b) { return store.increase(sel("req_total"), window(a, b)); };
  CHECK(inc(0, 3).value == 13);   // 5 + 3 (reset: the new value counts) + 5
  CHECK(inc(0, 3).scrapes == 4);  // baseline at 0, then 1, 2, 3
  CHECK(inc(1, 2).value == 3);    // baseline 15 at t=1, then 3 at t=2: a reset
  CHECK(inc(0, 1).value == 5);
  // Baseline: the last scrape at or before start; end: the last scrape at or before end.
  CHECK(inc(0.5, 2.5).value == 8);  // 10 (t=0) -> 15 -> 3
  CHECK(inc(0.5, 0.9).value == 0);  // no scrape inside: baseline only
  CHECK(inc(3, 10).value == 0);
  const auto rate = store.rate(sel("req_total"), window(0, 3));
  CHECK(rate.value == doctest::Approx(13.0 / 3));
  // Unknown metric: no data.
  CHECK_FALSE(store.increase(sel("nope_total"), window(0, 3)).has_data());
  CHECK(std::isnan(store.increase(sel("nope_total"), window(0, 3)).value));
}

TEST_CASE("scrape store: series created during the window count from zero") {
  ScrapeStore store;
  scrape(store, "api", 0, "errors_total{code=\"500\"} 2\n");
  scrape(store, "api", 1, "errors_total{code=\"500\"} 2\nerrors_total{code=\"503\"} 4\n");
  scrape(store, "api", 2, "errors_total{code=\"500\"} 3\nerrors_total{code=\"503\"} 6\n");
  CHECK(store.increase(sel("errors_total"), window(0, 2)).value == 1 + 6);
  CHECK(store.increase(sel("errors_total"), window(0, 2)).series == 2);
  // Without a scrape at or before start, the first value in the window is the baseline.
  ScrapeStore late;
  scrape(late, "api", 5, "c_total 100\n");
  scrape(late, "api", 6, "c_total 110\n");
  CHECK(late.increase(sel("c_total"), window(0, 10)).value == 10);
}

TEST_CASE("scrape store: failed scrapes are skipped and counted") {
  ScrapeStore store;
  scrape(store, "api", 0, "c_total 10\n");
  store.add_failed_scrape("api", s(1), "connection refused");
  const auto error = store.add_scrape_text("api", s(2), "c_total 15\nc_total{ 3\n");
  REQUIRE(error);
  CHECK(error->find("line 2:") != std::string::npos);
  scrape(store, "api", 3, "c_total 20\n");
  const auto inc = store.increase(sel("c_total"), window(0, 3));
  CHECK(inc.value == 10);
  CHECK(inc.failed_scrapes == 2);
  REQUIRE(store.failures("api").size() == 2);
  CHECK(store.failures("api")[0].error == "connection refused");
  CHECK(store.scrape_count("api") == 2);
  CHECK_THROWS_AS(store.add_scrape_text("api", s(3), "c_total 1\n"), std::invalid_argument);
  CHECK_THROWS_AS(store.add_failed_scrape("api", s(2.5), "late"), std::invalid_argument);
}

TEST_CASE("scrape store: a failed scrape counts in a window that ends at its time") {
  // Counter windows read scrapes up to and including their end, so a scrape that failed
  // there is one the window missed.
  ScrapeStore store;
  scrape(store, "api", 0, "c_total 10\n");
  scrape(store, "api", 1, "c_total 12\n");
  store.add_failed_scrape("api", s(2), "timeout");
  CHECK(store.increase(sel("c_total"), window(0, 2)).failed_scrapes == 1);
  CHECK(store.increase(sel("c_total"), window(0, 1.5)).failed_scrapes == 0);
  CHECK(store.increase(sel("c_total"), window(2, 3)).failed_scrapes == 1);
}

TEST_CASE("scrape store: label matchers and the job pseudo-label") {
  ScrapeStore store;
  for (int t = 0; t < 2; ++t) {
    const std::string n = std::to_string(t * 10);
    scrape(store, "api", t,
           "http_requests_total{route=\"/orders\",code=\"200\"} " + n +
               "\nhttp_requests_total{route=\"/orders\",code=\"503\"} " + std::to_string(t * 2) +
               "\nhttp_requests_total{route=\"/health\",code=\"200\"} " + std::to_string(t * 100) +
               "\nhttp_requests_total{job=\"theirs\",code=\"200\"} " + std::to_string(t * 1000) +
               "\n");
    scrape(store, "payment", t,
           "http_requests_total{code=\"500\"} " + std::to_string(t * 7) + "\n");
  }
  auto inc = [&](std::vector<LabelMatcher> m) {
    return store.increase(sel("http_requests_total", std::move(m)), window(0, 1)).value;
  };
  CHECK(inc({}) == 10 + 2 + 100 + 1000 + 7);
  CHECK(inc({{"job", MatchOp::kEqual, "api"}}) == 10 + 2 + 100 + 1000);
  CHECK(inc({{"job", MatchOp::kNotEqual, "api"}}) == 7);
  CHECK(inc({{"job", MatchOp::kRegexMatch, "pay.*"}}) == 7);
  CHECK(std::isnan(inc({{"job", MatchOp::kRegexMatch, "pay"}})));  // anchored
  CHECK(inc({{"route", MatchOp::kEqual, "/orders"}}) == 12);
  CHECK(inc({{"code", MatchOp::kRegexMatch, "5.."}}) == 2 + 7);
  CHECK(inc({{"code", MatchOp::kRegexNoMatch, "5.."}}) == 10 + 100 + 1000);
  // Anchored: "20" does not match "200".
  CHECK(std::isnan(inc({{"code", MatchOp::kRegexMatch, "20"}})));
  // A missing label is "": route="" selects the series without a route.
  CHECK(inc({{"route", MatchOp::kEqual, ""}}) == 1000 + 7);
  CHECK(inc({{"route", MatchOp::kNotEqual, ""}}) == 112);
  // The exposition's own job label became exported_job.
  CHECK(inc({{"exported_job", MatchOp::kEqual, "theirs"}}) == 1000);
  CHECK(std::isnan(inc({{"job", MatchOp::kEqual, "theirs"}})));
  CHECK(inc({{"job", MatchOp::kEqual, "api"}, {"code", MatchOp::kEqual, "503"}}) == 2);
}

TEST_CASE("scrape store: job of a service selects each of its instances") {
  // api runs 3 instances, each scraped as its own job; "apix" is another service whose name
  // starts like api's.
  ScrapeStore store;
  for (int t = 0; t < 2; ++t) {
    for (int k = 0; k < 3; ++k)
      scrape(store, "api#" + std::to_string(k), t,
             "req_total " + std::to_string(t * (k + 1) * 10) + "\n");
    scrape(store, "apix", t, "req_total " + std::to_string(t * 1000) + "\n");
  }
  auto inc = [&](std::vector<LabelMatcher> m) {
    return store.increase(sel("req_total", std::move(m)), window(0, 1)).value;
  };
  CHECK(inc({{"job", MatchOp::kEqual, "api"}}) == 10 + 20 + 30);
  CHECK(inc({{"job", MatchOp::kEqual, "api#1"}}) == 20);
  CHECK(std::isnan(inc({{"job", MatchOp::kEqual, "api#3"}})));
  CHECK(inc({{"job", MatchOp::kNotEqual, "api"}}) == 1000);
  CHECK(inc({{"job", MatchOp::kNotEqual, "api#1"}}) == 10 + 30 + 1000);
  CHECK(inc({{"job", MatchOp::kRegexMatch, "api"}}) == 60);
  CHECK(inc({{"job", MatchOp::kRegexMatch, "api#[02]"}}) == 40);
  CHECK(inc({{"job", MatchOp::kRegexNoMatch, "api"}}) == 1000);
  CHECK(inc({}) == 1060);
}

TEST_CASE("label matchers: anchoring, escapes and invalid regexes") {
  const LabelMatcher m("path", MatchOp::kRegexMatch, "/a|/b");
  CHECK(m.matches(std::string_view("/a")));
  CHECK(m.matches(std::string_view("/b")));
  CHECK_FALSE(m.matches(std::string_view("/a/b")));  // (?:/a|/b) anchored as a whole
  CHECK(LabelMatcher("x", MatchOp::kEqual, "a\"b\n").str() == "x=\"a\\\"b\\n\"");
  CHECK_THROWS_AS(LabelMatcher("x", MatchOp::kRegexMatch, "("), std::invalid_argument);
  CHECK_THROWS_WITH(LabelMatcher("code", MatchOp::kRegexNoMatch, "[5"),
                    doctest::Contains("code!~\"[5\""));
  for (const char* op : {"=", "!=", "=~", "!~"}) {
    REQUIRE(faultline::observe::parse_match_op(op));
    CHECK(match_op_text(*faultline::observe::parse_match_op(op)) == op);
  }
  CHECK_FALSE(faultline::observe::parse_match_op("=="));
}

TEST_CASE("scrape store: gauge aggregates over the scrapes from start to before end") {
  ScrapeStore store;
  // Two queues; depth per scrape: a = 1,5,2,8  b = 10,0,4,NaN
  const char* a[] = {"1", "5", "2", "8"};
  const char* b[] = {"10", "0", "4", "NaN"};
  for (int t = 0; t < 4; ++t) {
    scrape(store, "worker", t,
           std::string("# TYPE queue_depth gauge\nqueue_depth{queue=\"a\"} ") + a[t] +
               "\nqueue_depth{queue=\"b\"} " + b[t] + "\n");
  }
  auto g = [&](GaugeFunction f, double from, double to, SeriesCombine c = SeriesCombine::kSum) {
    return store.gauge(f, sel("queue_depth"), window(from, to), c).value;
  };
  // Sum per scrape: 11, 5, 6, 8 (b's NaN is skipped).
  CHECK(g(GaugeFunction::kMax, 0, 4) == 11);
  CHECK(g(GaugeFunction::kMin, 0, 4) == 5);
  CHECK(g(GaugeFunction::kAvg, 0, 4) == doctest::Approx(7.5));
  CHECK(g(GaugeFunction::kLast, 0, 4) == 8);
  // [1, 3): the scrapes at 1 and 2 only; the one at 3 belongs to the next window.
  CHECK(g(GaugeFunction::kMax, 1, 3) == 6);
  CHECK(g(GaugeFunction::kLast, 1, 3) == 6);
  CHECK(store.gauge(GaugeFunction::kMax, sel("queue_depth"), window(1, 3)).scrapes == 2);
  // Combining by max per scrape: 10, 5, 4, 8.
  CHECK(g(GaugeFunction::kMin, 0, 4, SeriesCombine::kMax) == 4);
  CHECK(g(GaugeFunction::kMax, 0, 4, SeriesCombine::kMin) == 8);  // min per scrape: 1, 0, 2, 8
  CHECK(g(GaugeFunction::kAvg, 0, 2, SeriesCombine::kAvg) == doctest::Approx((5.5 + 2.5) / 2));
  CHECK(store
            .gauge(GaugeFunction::kMax, sel("queue_depth", {{"queue", MatchOp::kEqual, "a"}}),
                   window(0, 4))
            .value == 8);
  CHECK(std::isnan(g(GaugeFunction::kMax, 10, 20)));
}

TEST_CASE("scrape store: histogram quantile over the window's bucket increase") {
  ScrapeStore store;
  // Two instances of one histogram; instance b restarts between t=1 and t=2.
  auto hist = [](const char* inst, double b01, double b05, double inf, double sum) {
    const std::string l = std::string("instance=\"") + inst + "\",";
    return "http_request_duration_seconds_bucket{" + l + "le=\"0.1\"} " + std::to_string(b01) +
           "\nhttp_request_duration_seconds_bucket{" + l + "le=\"0.5\"} " + std::to_string(b05) +
           "\nhttp_request_duration_seconds_bucket{" + l + "le=\"+Inf\"} " + std::to_string(inf) +
           "\nhttp_request_duration_seconds_sum{" + std::string("instance=\"") + inst + "\"} " +
           std::to_string(sum) + "\nhttp_request_duration_seconds_count{" +
           std::string("instance=\"") + inst + "\"} " + std::to_string(inf) + "\n";
  };
  const std::string type = "# TYPE http_request_duration_seconds histogram\n";
  scrape(store, "api", 0, type + hist("a", 10, 20, 30, 5) + hist("b", 100, 100, 100, 5));
  scrape(store, "api", 1, type + hist("a", 20, 40, 50, 9) + hist("b", 110, 120, 130, 9));
  scrape(store, "api", 2, type + hist("a", 30, 50, 70, 12) + hist("b", 5, 10, 20, 1));
  // Increases over [0, 2): a: 0.1:20 0.5:30 inf:40;  b: 0.1:10+5 0.5:20+10 inf:30+20.
  const std::vector<HistogramBucket> expected = {{0.1, 35}, {0.5, 60}, {kInf, 90}};
  const SeriesSelector h = sel("http_request_duration_seconds");
  for (double q : {0.0, 0.25, 0.5, 0.66, 0.9, 0.99, 1.0}) {
    CAPTURE(q);
    const auto v = store.histogram_quantile(q, h, window(0, 2));
    CHECK(v.value == faultline::observe::histogram_quantile(q, expected));
    CHECK(v.observations == 90);
    CHECK(v.series == 6);
  }
  CHECK(store.histogram_count_increase(h, window(0, 2)).value == 90);
  // The _bucket suffix is accepted too, and matchers select instances.
  const auto only_a = store.histogram_quantile(
      0.5, sel("http_request_duration_seconds_bucket", {{"instance", MatchOp::kEqual, "a"}}),
      window(0, 2));
  CHECK(only_a.value ==
        faultline::observe::histogram_quantile(0.5, {{0.1, 20}, {0.5, 30}, {kInf, 40}}));
  CHECK(only_a.observations == 40);
  // No traffic in the window: NaN with zero observations, but the series are there.
  const auto idle = store.histogram_quantile(0.5, h, window(2, 3));
  CHECK(std::isnan(idle.value));
  CHECK(idle.observations == 0);
  CHECK(idle.series == 6);
}

TEST_CASE("scrape store: buckets with an unparseable le are skipped, as in Prometheus") {
  ScrapeStore store;
  scrape(store, "api", 0,
         "h_bucket{le=\"1\"} 0\nh_bucket{le=\"oops\"} 0\nh_bucket{le=\"+Inf\"} 0\n");
  scrape(store, "api", 1,
         "h_bucket{le=\"1\"} 4\nh_bucket{le=\"oops\"} 100\nh_bucket{le=\"+Inf\"} 8\n");
  const auto v = store.histogram_quantile(0.5, sel("h"), window(0, 1));
  CHECK(v.value == 1);  // rank 4 of 8 ends exactly at le=1
  CHECK(v.series == 2);
}

TEST_CASE("scrape store: only metrics of interest are kept, and series are capped") {
  ScrapeStore store(ScrapeStore::Options{{"queue_depth", "lat"}, 3});
  const std::string body =
      "# TYPE lat histogram\nlat_bucket{le=\"1\"} 1\nlat_bucket{le=\"+Inf\"} 1\nlat_sum 1\n"
      "lat_count 1\nqueue_depth 3\nother_total 5\n";
  scrape(store, "api", 0, body);
  CHECK(store.series_count() == 3);     // lat_bucket x2 and lat_sum, then the cap
  CHECK(store.dropped_samples() == 2);  // lat_count and queue_depth; other_total is not wanted
  CHECK(std::isnan(store.gauge(GaugeFunction::kLast, sel("other_total"), window(0, 1)).value));
  ScrapeStore roomy(ScrapeStore::Options{{"queue_depth", "lat"}, 100});
  scrape(roomy, "api", 0, body);
  CHECK(roomy.series_count() == 5);
  CHECK(roomy.gauge(GaugeFunction::kLast, sel("queue_depth"), window(0, 1)).value == 3);
}

TEST_CASE("scrape store: a 1-hour run at 1 s with 500 series stays small") {
  std::string body = "# TYPE lat histogram\n";
  // 10 routes x (10 buckets + +Inf + sum + count) = 130 series, plus 370 counters/gauges.
  for (int r = 0; r < 10; ++r) {
    const std::string route = "route=\"/r" + std::to_string(r) + "\"";
    for (int b = 0; b < 10; ++b) {
      body += "lat_bucket{" + route + ",le=\"" + std::to_string(0.005 * (1 << b)) + "\"} 1\n";
    }
    body += "lat_bucket{" + route + ",le=\"+Inf\"} 1\nlat_sum{" + route + "} 1\nlat_count{" +
            route + "} 1\n";
  }
  for (int i = 0; i < 370; ++i) body += "things_total{n=\"" + std::to_string(i) + "\"} 1\n";
  faultline::observe::MetricsTextParser parser;
  auto scrape_body = parser.parse(body);
  const size_t before = mallinfo2().uordblks;
  {
    ScrapeStore store;
    for (int t = 0; t < 3600; ++t) {
      for (auto& f : scrape_body.families) {
        for (auto& sample : f.samples) sample.value += 1;
      }
      store.add_scrape("api", s(t), scrape_body);
    }
    const size_t heap = mallinfo2().uordblks - before;
    CHECK(store.series_count() == 500);
    MESSAGE("1 h x 1 s x 500 series: memory_bytes() = "
            << store.memory_bytes() / 1e6 << " MB, heap growth " << heap / 1e6 << " MB");
    CHECK(store.memory_bytes() < 40'000'000);
    CHECK(heap < 40'000'000);
    // The estimate is honest: within a factor of 1.5 of what the heap grew by.
    CHECK(static_cast<double>(store.memory_bytes()) > heap / 1.5);
    CHECK(
        store.increase(sel("things_total", {{"n", MatchOp::kEqual, "7"}}), window(0, 3600)).value ==
        3599);
  }
}

TEST_CASE(
    "scrape store: window queries agree with Prometheus' increase() on plan-aligned scrapes") {
  // Scrapes every minute at 0..5m. On such a window [a, b), Prometheus' increase(x[b-a]) at b
  // reads the samples at a..b and extrapolates nothing, so it equals our increase, resets
  // included. Quantiles, counts and counters are compared through promtool.
  using faultline::observe::testing::PromtoolOracle;
  const std::vector<std::string> les = {"0.005", "0.01", "0.025", "0.05", "0.1",
                                        "0.25",  "0.5",  "1",     "+Inf"};
  const std::vector<std::string> jobs = {"api", "payment"};
  const std::vector<std::string> routes = {"r0", "r1", "r2"};
  constexpr int kScrapes = 6;
  faultline::Rng rng(99);
  ScrapeStore store;
  std::vector<PromtoolOracle::Series> series;
  std::map<std::string, std::string> values;  // promtool series -> "v0 v1 ..."
  std::vector<std::string> bodies(kScrapes * jobs.size());
  for (size_t j = 0; j < jobs.size(); ++j) {
    for (const std::string& route : routes) {
      std::vector<double> bucket(les.size(), 0);  // per-bucket (non-cumulative) counts
      double requests = 0;
      for (int t = 0; t < kScrapes; ++t) {
        if (t > 0 && rng.uniform01() < 0.2) {  // the process restarted: everything from 0
          std::fill(bucket.begin(), bucket.end(), 0);
          requests = 0;
        }
        for (double& b : bucket) b += static_cast<double>(rng.uniform_below(40));
        requests += static_cast<double>(rng.uniform_below(500));
        std::string& body = bodies[t * jobs.size() + j];
        double cumulative = 0;
        const std::string labels = "route=\"" + route + "\"";
        for (size_t i = 0; i < les.size(); ++i) {
          cumulative += bucket[i];
          body += "lat_bucket{" + labels + ",le=\"" + les[i] + "\"} " +
                  PromtoolOracle::go_float(cumulative) + "\n";
          values["lat_bucket{job=`" + jobs[j] + "`,route=`" + route + "`,le=`" + les[i] + "`}"] +=
              PromtoolOracle::go_float(cumulative) + " ";
        }
        body += "lat_count{" + labels + "} " + PromtoolOracle::go_float(cumulative) + "\n";
        body += "req_total{" + labels + "} " + PromtoolOracle::go_float(requests) + "\n";
        values["lat_count{job=`" + jobs[j] + "`,route=`" + route + "`}"] +=
            PromtoolOracle::go_float(cumulative) + " ";
        values["req_total{job=`" + jobs[j] + "`,route=`" + route + "`}"] +=
            PromtoolOracle::go_float(requests) + " ";
      }
    }
  }
  for (int t = 0; t < kScrapes; ++t) {
    for (size_t j = 0; j < jobs.size(); ++j) {
      scrape(store, jobs[j], t * 60,
             "# TYPE lat histogram\n# TYPE req_total counter\n" + bodies[t * jobs.size() + j]);
    }
  }
  for (const auto& [selector, v] : values) series.push_back({selector, v});

  struct Sel {
    std::string promql;  // inside the braces
    std::vector<LabelMatcher> matchers;
  };
  const std::vector<Sel> selections = {
      {"", {}},
      {"job=`api`", {{"job", MatchOp::kEqual, "api"}}},
      {"route=~`r[01]`,job!=`payment`",
       {{"route", MatchOp::kRegexMatch, "r[01]"}, {"job", MatchOp::kNotEqual, "payment"}}},
      {"route!~`r0`", {{"route", MatchOp::kRegexNoMatch, "r0"}}},
  };
  PromtoolOracle oracle;
  oracle.group(series);
  for (int a = 0; a < kScrapes - 1; ++a) {
    for (int b = a + 1; b < kScrapes; ++b) {
      const TimeWindow w = window(a * 60, b * 60);
      const std::string range = "[" + std::to_string(b - a) + "m]";
      for (const Sel& s : selections) {
        const std::string braces = "{" + s.promql + "}";
        for (double q : {0.0, 0.5, 0.9, 0.99, 1.0}) {
          oracle.expect("histogram_quantile(" + PromtoolOracle::go_float(q) +
                            ", sum by (le) (increase(lat_bucket" + braces + range + ")))",
                        b, store.histogram_quantile(q, sel("lat", s.matchers), w).value);
        }
        oracle.expect("sum(increase(lat_count" + braces + range + "))", b,
                      store.histogram_count_increase(sel("lat", s.matchers), w).value);
        oracle.expect("sum(increase(req_total" + braces + range + "))", b,
                      store.increase(sel("req_total", s.matchers), w).value);
        oracle.expect("sum(rate(req_total" + braces + range + "))", b,
                      store.rate(sel("req_total", s.matchers), w).value, 1e-12);
      }
    }
  }
  REQUIRE(oracle.run("scrape_store_windows"));
}
