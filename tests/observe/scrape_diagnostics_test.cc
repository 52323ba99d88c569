// Why a scrape failed, and what a window query says about it; non-monotonic histogram buckets
// fixed up as Prometheus does, and said so (issue 8, item 7).
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "observe/histogram_quantile.h"
#include "observe/scrape_store.h"
#include "observe/utf8.h"
#include "promtool_oracle.h"

using faultline::Duration;
using faultline::observe::describe_scrape_failure;
using faultline::observe::histogram_quantile;
using faultline::observe::HistogramBucket;
using faultline::observe::is_valid_utf8;
using faultline::observe::kMaxBodyExcerpt;
using faultline::observe::LabelMatcher;
using faultline::observe::MatchOp;
using faultline::observe::ScrapeStore;
using faultline::observe::SeriesSelector;
using faultline::observe::TimeWindow;
using faultline::observe::testing::PromtoolOracle;
using namespace std::chrono_literals;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

Duration s(double seconds) {
  return Duration{static_cast<int64_t>(seconds * 1e6)};
}

SeriesSelector api(std::string metric) {
  return {std::move(metric), {LabelMatcher("job", MatchOp::kEqual, "api")}};
}

// A histogram exposition with the given cumulative counts for le 0.1, 0.2, 0.4, +Inf.
std::string histogram_text(double b1, double b2, double b3, double inf) {
  auto n = [](double v) { return PromtoolOracle::go_float(v); };
  return "# TYPE lat histogram\n"
         "lat_bucket{le=\"0.1\"} " +
         n(b1) + "\nlat_bucket{le=\"0.2\"} " + n(b2) + "\nlat_bucket{le=\"0.4\"} " + n(b3) +
         "\nlat_bucket{le=\"+Inf\"} " + n(inf) + "\nlat_sum 1\nlat_count " + n(inf) + "\n";
}

}  // namespace

TEST_CASE("a failed scrape's reason names the timeout, the refusal or the HTTP status") {
  CHECK(describe_scrape_failure(0, "timeout", "Timeout was reached", "", 2000ms) ==
        "timeout after 2s (Timeout was reached)");
  CHECK(describe_scrape_failure(0, "refused", "Couldn't connect to server", "", 2s) ==
        "connection refused (Couldn't connect to server)");
  CHECK(describe_scrape_failure(0, "reset", "", "", 2s) == "connection reset");
  CHECK(describe_scrape_failure(503, "", "", "busy, try later\n", 2s) ==
        "HTTP 503: busy, try later ");
  CHECK(describe_scrape_failure(404, "", "", "", 2s) == "HTTP 404");
  // The body cap's own message is kept as it is.
  const std::string cap = "response body larger than 16777216 bytes (the cap)";
  CHECK(describe_scrape_failure(200, "too_large", cap, "", 2s) == cap);
  CHECK(describe_scrape_failure(0, "", "", "", 2s) == "no response and no reason given");
}

TEST_CASE("an HTTP error body becomes a short printable excerpt") {
  std::string body("\xff\xfe\x00oops", 7);
  body.append(10000, 'x');
  const std::string why = describe_scrape_failure(500, "", "", body, 2s);
  CHECK(why.rfind("HTTP 500: ???oops", 0) == 0);
  CHECK(why.size() == std::string("HTTP 500: ").size() + kMaxBodyExcerpt + 3);
  CHECK(why.substr(why.size() - 3) == "...");
  CHECK(is_valid_utf8(why));
}

TEST_CASE("a window query counts failed scrapes and names the first one with its reason") {
  ScrapeStore store;
  REQUIRE(!store.add_scrape_text("api", s(0), histogram_text(0, 0, 0, 0)));
  store.add_failed_scrape("api", s(1), "HTTP 503: busy");
  // A parse error is recorded as a failure that names line and column.
  const auto parse_error = store.add_scrape_text("api", s(2), "lat_bucket{le=\"0.1\" 3\n");
  REQUIRE(parse_error);
  store.add_failed_scrape("api", s(3), "timeout after 2s");
  store.add_failed_scrape("worker", s(0.5), "connection refused");  // another job

  const auto q = store.histogram_quantile(0.5, api("lat"), {s(0), s(10)});
  CHECK(q.failed_scrapes == 3);
  CHECK(q.first_failure == "api at 1s: HTTP 503: busy");
  CHECK(q.failure_note() ==
        "3 scrape(s) failed in the window; the first, api at 1s: HTTP 503: busy");

  const auto later = store.increase(api("lat_count"), {s(1.5), s(10)});
  CHECK(later.failed_scrapes == 2);
  CHECK(later.first_failure.rfind("api at 2s: metrics text: line 1:", 0) == 0);

  const auto all =
      store.gauge(faultline::observe::GaugeFunction::kMax, {"lat_count", {}}, {s(0), s(10)});
  CHECK(all.failed_scrapes == 4);
  CHECK(all.first_failure == "worker at 500ms: connection refused");

  const auto none = store.increase(api("lat_count"), {s(5), s(10)});
  CHECK(none.failed_scrapes == 0);
  CHECK(none.failure_note().empty());
}

TEST_CASE("histogram_quantile says when it had to make the buckets monotonic") {
  bool forced = true;
  CHECK(histogram_quantile(0.5, {{0.1, 5}, {0.2, 7}, {kInf, 10}}, &forced) == doctest::Approx(0.1));
  CHECK_FALSE(forced);
  // {0.1: 5, 0.2: 3, 0.4: 8, +Inf: 8} is read as {5, 5, 8, 8}.
  CHECK(histogram_quantile(0.5, {{0.1, 5}, {0.2, 3}, {0.4, 8}, {kInf, 8}}, &forced) ==
        doctest::Approx(0.08));
  CHECK(forced);
  // Not a histogram Prometheus reads (no +Inf bucket): nothing to say about its buckets.
  CHECK(std::isnan(histogram_quantile(0.5, {{0.1, 5}, {0.2, 3}}, &forced)));
  CHECK_FALSE(forced);
  CHECK(histogram_quantile(2, {{0.1, 5}, {0.2, 3}, {kInf, 8}}, &forced) == kInf);
  CHECK_FALSE(forced);
}

TEST_CASE("the scrape store fixes non-monotonic bucket increases as Prometheus does") {
  // Two scrapes from zero, so each bucket's increase over [0, 60s] is its last value, which
  // promtool evaluates directly: histogram_quantile over the same counts.
  struct Case {
    const char* name;
    double b1, b2, b3, inf;
  };
  const Case cases[] = {{"mono", 5, 7, 9, 10},
                        {"dip", 5, 3, 8, 8},
                        {"inf_low", 5, 9, 9, 2},
                        {"dip_twice", 10, 2, 4, 12}};
  PromtoolOracle oracle;
  for (const Case& c : cases) {
    ScrapeStore store;
    REQUIRE(!store.add_scrape_text("api", s(0), histogram_text(0, 0, 0, 0)));
    REQUIRE(!store.add_scrape_text("api", s(60), histogram_text(c.b1, c.b2, c.b3, c.inf)));
    const std::string n = std::string(c.name) + "_bucket";
    auto values = [](double v) { return "0 " + PromtoolOracle::go_float(v); };
    oracle.group({{n + "{le=`0.1`}", values(c.b1)},
                  {n + "{le=`0.2`}", values(c.b2)},
                  {n + "{le=`0.4`}", values(c.b3)},
                  {n + "{le=`+Inf`}", values(c.inf)}});
    const bool monotonic = c.b1 <= c.b2 && c.b2 <= c.b3 && c.b3 <= c.inf;
    for (double q : {0.25, 0.5, 0.9, 0.99}) {
      const auto v = store.histogram_quantile(q, api("lat"), {s(0), s(60)});
      INFO(c.name, " q=", q);
      CHECK(v.forced_monotonic == !monotonic);
      oracle.expect("histogram_quantile(" + PromtoolOracle::go_float(q) + ", " + n + ")", 1,
                    v.value);
    }
  }
  REQUIRE(oracle.run("scrape_store_monotonic"));
}
