// observe/prometheus_api.h: request forms, reading the API's answers (and refusing what is not
// one), and series turned back into an exposition a ScrapeStore judges like a scrape.
#include "observe/prometheus_api.h"

#include <doctest/doctest.h>

#include <cmath>

#include "observe/scrape_store.h"

using namespace faultline::observe;
using namespace std::chrono_literals;

TEST_CASE("forms encode the expression and write times as exact seconds") {
  CHECK(form_encode("up{job=\"api\"} > 0") == "up%7Bjob%3D%22api%22%7D+%3E+0");
  CHECK(form_encode("a-b_c.d~") == "a-b_c.d~");
  CHECK(instant_query_form("up", 1700000000123) == "query=up&time=1700000000.123");
  CHECK(range_query_form("x", 1000, 61000, 1000) == "query=x&start=1.000&end=61.000&step=1.000");
  CHECK(instant_query_form("up", 5) == "query=up&time=0.005");
}

TEST_CASE("a vector answer gives one point per series, name apart, labels sorted") {
  const PromAnswer a = parse_prometheus_answer(
      R"({"status":"success","data":{"resultType":"vector","result":[
        {"metric":{"job":"api","__name__":"up","instance":"127.0.0.1:1"},"value":[1700000000.5,"1"]},
        {"metric":{"job":"payment"},"value":[1700000000.5,"NaN"]}]}})",
      200);
  REQUIRE(a.result_type == "vector");
  REQUIRE(a.series.size() == 2);
  CHECK(a.series[0].name == "up");
  REQUIRE(a.series[0].labels.size() == 2);
  CHECK(a.series[0].labels[0].name == "instance");
  CHECK(a.series[0].labels[1].name == "job");
  CHECK(a.series[0].points[0].t_ms == 1700000000500);
  CHECK(a.series[0].points[0].value == 1);
  CHECK(a.series[1].name.empty());
  CHECK(std::isnan(a.series[1].points[0].value));
}

TEST_CASE("a matrix answer keeps every point, infinities included") {
  const PromAnswer a = parse_prometheus_answer(
      R"({"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"__name__":"x_bucket","le":"+Inf"},"values":[[10,"3"],[11,"+Inf"],[12,"-Inf"]]}]}})",
      200);
  REQUIRE(a.series.size() == 1);
  REQUIRE(a.series[0].points.size() == 3);
  CHECK(a.series[0].points[1].t_ms == 11000);
  CHECK(std::isinf(a.series[0].points[1].value));
  CHECK(a.series[0].points[2].value < 0);
}

TEST_CASE("a scalar answer is one unnamed series") {
  const PromAnswer a = parse_prometheus_answer(
      R"({"status":"success","data":{"resultType":"scalar","result":[2,"4.5"]}})", 200);
  REQUIRE(a.series.size() == 1);
  CHECK(a.series[0].points[0].value == 4.5);
}

TEST_CASE("error answers and bodies that are not the API's are refused with what they said") {
  CHECK_THROWS_WITH_AS(
      parse_prometheus_answer(
          R"({"status":"error","errorType":"bad_data","error":"parse error at char 4"})", 400),
      "bad_data: parse error at char 4", PrometheusApiError);
  CHECK_THROWS_WITH_AS(parse_prometheus_answer("<html>502 Bad Gateway</html>", 502),
                       "HTTP 502, not an answer of the Prometheus HTTP API: <html>502 Bad "
                       "Gateway</html>",
                       PrometheusApiError);
  CHECK_THROWS_AS(parse_prometheus_answer(
                      R"({"status":"success","data":{"resultType":"vector","result":[
                        {"metric":{},"value":[1,"12abc"]}]}})",
                      200),
                  PrometheusApiError);
  CHECK_THROWS_AS(parse_prometheus_answer(
                      R"({"status":"success","data":{"resultType":"vector","result":[
                        {"metric":{},"value":[1]}]}})",
                      200),
                  PrometheusApiError);
  CHECK_THROWS_AS(parse_prometheus_answer(
                      R"({"status":"success","data":{"resultType":"table","result":[]}})", 200),
                  PrometheusApiError);
}

namespace {

PromSeries series(std::string name, Labels labels, std::vector<PromPoint> points) {
  return PromSeries{std::move(name), std::move(labels), std::move(points)};
}

}  // namespace

TEST_CASE("series at one instant read back as a scrape: a histogram judged like the original") {
  // Two scrapes of a histogram, 1 s apart, as Prometheus would return them in a range query.
  std::vector<PromSeries> s;
  const double before[] = {0, 0, 0}, after[] = {10, 90, 100};
  const char* les[] = {"0.1", "0.5", "+Inf"};
  for (int i = 0; i < 3; ++i)
    s.push_back(series("lat_seconds_bucket", {{"le", les[i]}, {"route", "a\"b"}},
                       {{1000, before[i]}, {2000, after[i]}}));
  s.push_back(series("lat_seconds_count", {{"route", "a\"b"}}, {{1000, 0}, {2000, 100}}));
  s.push_back(series("lat_seconds_sum", {{"route", "a\"b"}}, {{1000, 0}, {2000, 30}}));
  s.push_back(series("in_flight", {}, {{2000, 7}}));  // no point at 1000: absent then
  const std::string at1 = exposition_at(s, 1000), at2 = exposition_at(s, 2000);
  CHECK(at1.find("# TYPE lat_seconds histogram\n") == 0);
  CHECK(at1.find("in_flight") == std::string::npos);
  CHECK(at2.find("lat_seconds_bucket{le=\"+Inf\",route=\"a\\\"b\"} 100\n") != std::string::npos);
  CHECK(at2.find("in_flight 7\n") != std::string::npos);

  ScrapeStore store;
  REQUIRE_FALSE(store.add_scrape_text("api", 0s, at1));
  REQUIRE_FALSE(store.add_scrape_text("api", 1s, at2));
  const QuantileValue q = store.histogram_quantile(0.5, {"lat_seconds", {}}, {0s, 1s});
  REQUIRE(q.has_data());
  CHECK(q.observations == 100);
  // 50 of 100 observations: the 40th of the 80 in (0.1, 0.5].
  CHECK(q.value == doctest::Approx(0.1 + 0.4 * 40.0 / 80.0));
  CHECK(store.gauge(GaugeFunction::kMax, {"in_flight", {}}, {0s, 2s}).value == 7);
}

TEST_CASE("numbers are written so that they read back the same") {
  CHECK(prometheus_number(0.1) == "0.1");
  CHECK(prometheus_number(1e21) == "1e+21");
  CHECK(prometheus_number(std::nan("")) == "NaN");
  CHECK(prometheus_number(-HUGE_VAL) == "-Inf");
}
