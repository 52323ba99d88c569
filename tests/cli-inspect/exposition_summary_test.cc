// What `faultline inspect` computes of an exposition (observe/exposition_summary.h): series
// grouping, totals, histogram quantiles per series and summed by `le`, filters, and the
// selector syntax of --match.
#include "observe/exposition_summary.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "common/file_io.h"
#include "observe/metrics_text_parser.h"

using namespace faultline;
using namespace faultline::observe;

namespace {

Exposition shop() {
  const auto text =
      read_whole_file(std::string(FAULTLINE_SOURCE_DIR) + "/tests/cli-inspect/fixtures/shop.txt");
  REQUIRE(text);
  return MetricsTextParser().parse(*text);
}

const FamilySummary& family(const std::vector<FamilySummary>& all, const std::string& name) {
  for (const auto& f : all)
    if (f.name == name) return f;
  FAIL("no family " << name);
  return all.front();
}

}  // namespace

TEST_CASE("counters and gauges: one series per sample, totals add the values") {
  const auto all = summarize_exposition(shop());
  REQUIRE(all.size() == 3);
  CHECK(all[0].name == "http_requests_total");  // exposition order
  const auto& requests = family(all, "http_requests_total");
  CHECK(requests.type == MetricType::kCounter);
  CHECK(requests.help == "Requests served, by route and status code.");
  CHECK(requests.series.size() == 3);
  CHECK(requests.total.value == 105);
  CHECK(requests.series[1].value == 10);
  CHECK(series_text(requests.series[1].name, requests.series[1].labels) ==
        "http_requests_total{code=\"500\",route=\"/orders\"}");
  CHECK(family(all, "queue_depth").total.value == 7);
}

TEST_CASE("histograms: series without le, quantiles like histogram_quantile") {
  const auto all = summarize_exposition(shop());
  const auto& h = family(all, "http_request_duration_seconds");
  REQUIRE(h.series.size() == 2);
  CHECK(h.samples == 10);
  const auto& orders = h.series[0];
  CHECK(series_text(orders.name, orders.labels) ==
        "http_request_duration_seconds{route=\"/orders\"}");
  CHECK(orders.count == 100);
  CHECK(orders.sum == 12.5);
  // 50 of 100 at or below 0.1: rank 50 is the top of the lowest bucket, interpolated from 0.
  CHECK(orders.quantiles[0] == doctest::Approx(0.1));
  // rank 90 is the top of (0.1, 0.5].
  CHECK(orders.quantiles[1] == doctest::Approx(0.5));
  // rank 99 falls in +Inf: the second-highest bound.
  CHECK(orders.quantiles[2] == doctest::Approx(0.5));
  const auto& health = h.series[1];
  // All 100 in (0.1, 0.5]: rank 50 half way.
  CHECK(health.quantiles[0] == doctest::Approx(0.3));
  // Summed by le: 50 @0.1, 190 @0.5, 200 @+Inf. Rank 100: 0.1 + 0.4 * (50 / 140).
  CHECK(h.total.count == 200);
  CHECK(h.total.sum == 42.5);
  CHECK(h.total.quantiles[0] == doctest::Approx(0.1 + 0.4 * 50.0 / 140.0));
  // Rank 180: 0.1 + 0.4 * (130 / 140).
  CHECK(h.total.quantiles[1] == doctest::Approx(0.1 + 0.4 * 130.0 / 140.0));
  CHECK_FALSE(h.total.forced_monotonic);
}

TEST_CASE("non-monotonic buckets are fixed up and say so") {
  const Exposition e = MetricsTextParser().parse(
      "# TYPE x histogram\nx_bucket{le=\"1\"} 10\nx_bucket{le=\"2\"} 5\nx_bucket{le=\"+Inf\"} "
      "10\nx_count 10\nx_sum 3\n");
  const auto all = summarize_exposition(e);
  REQUIRE(all.size() == 1);
  CHECK(all[0].total.forced_monotonic);
  CHECK(all[0].total.quantiles[0] == doctest::Approx(0.5));
}

TEST_CASE("filters: --family, --match by family or sample name, and any of several") {
  ExpositionFilter only_errors;
  only_errors.selectors.push_back(parse_selector_text("http_requests_total{code=~\"5..\"}"));
  auto all = summarize_exposition(shop(), only_errors);
  REQUIRE(all.size() == 1);
  CHECK(all[0].total.value == 10);

  ExpositionFilter by_route;
  by_route.selectors.push_back(parse_selector_text("{route=\"/health\"}"));
  all = summarize_exposition(shop(), by_route);
  REQUIRE(all.size() == 2);
  CHECK(family(all, "http_requests_total").total.value == 5);
  CHECK(family(all, "http_request_duration_seconds").total.quantiles[0] == doctest::Approx(0.3));

  ExpositionFilter counts;  // a sample name selects those samples of its family
  counts.selectors.push_back(parse_selector_text("http_request_duration_seconds_count"));
  counts.selectors.push_back(parse_selector_text("queue_depth"));
  all = summarize_exposition(shop(), counts);
  REQUIRE(all.size() == 2);
  CHECK(family(all, "http_request_duration_seconds").total.count == 200);
  CHECK(std::isnan(family(all, "http_request_duration_seconds").total.sum));

  ExpositionFilter one_family;
  one_family.family = "queue_depth";
  all = summarize_exposition(shop(), one_family);
  REQUIRE(all.size() == 1);
  CHECK(all[0].name == "queue_depth");
  one_family.family = "queue";  // exact names only
  CHECK(summarize_exposition(shop(), one_family).empty());
}

TEST_CASE("selector text: operators, escapes, and errors with a place") {
  const SelectorText s =
      parse_selector_text(" up { job = \"a\\\"b\" , code!~\"5..\", x=~\"(?i)y\", z!=\"\",} ");
  CHECK(s.metric == "up");
  REQUIRE(s.matchers.size() == 4);
  CHECK(s.matchers[0].value() == "a\"b");
  CHECK(s.matchers[1].op() == MatchOp::kRegexNoMatch);
  CHECK(s.matchers[2].matches(Labels{{"x", "Y"}}));
  CHECK(s.matchers[3].op() == MatchOp::kNotEqual);

  auto error_of = [](const char* text) {
    try {
      parse_selector_text(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  CHECK(error_of("up{job=a}") == "at byte 8: expected a double-quoted value");
  CHECK(error_of("up{job\"a\"}") == "at byte 7: expected one of = != =~ !~");
  CHECK(error_of("up{job=\"a\"") == "at byte 11: expected ',' or '}'");
  CHECK(error_of("up x") == "at byte 4: expected '{' or the end");
  CHECK(error_of("") == "at byte 1: expected a metric name or '{'");
  CHECK(error_of("{}") == "at byte 3: expected a metric name or '{'");
  CHECK(error_of("{a=~\"(\"}").find("at byte 7: ") == 0);
}
