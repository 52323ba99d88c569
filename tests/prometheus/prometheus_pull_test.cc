// run/prometheus_pull.h against a fake Prometheus: which queries it sends for which ticks, how
// answers become scrapes or failed scrapes, and the errors that name the server and selector.
#include "run/prometheus_pull.h"

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace faultline;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kZero = 1'700'000'000'000;  // plan time 0, Unix ms

std::map<std::string, std::string> decode_form(const std::string& body) {
  std::map<std::string, std::string> out;
  size_t from = 0;
  while (from <= body.size()) {
    size_t amp = body.find('&', from);
    if (amp == std::string::npos) amp = body.size();
    const std::string pair = body.substr(from, amp - from);
    const size_t eq = pair.find('=');
    std::string value;
    for (size_t i = eq + 1; i < pair.size(); ++i) {
      if (pair[i] == '+') {
        value += ' ';
      } else if (pair[i] == '%') {
        value += static_cast<char>(std::stoi(pair.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        value += pair[i];
      }
    }
    out[pair.substr(0, eq)] = value;
    from = amp + 1;
  }
  return out;
}

int64_t ms_of(const std::string& seconds) {
  return std::llround(std::stod(seconds) * 1000);
}

// A Prometheus holding gauge g{job="api"} = (seconds since plan 0) * 10 at every time, and up
// = 1, except up = 0 at plan time 1 s. Records every query.
struct FakePrometheus {
  struct Query {
    std::string path, expr;
    int64_t time = 0, start = 0, end = 0, step = 0;
  };
  std::vector<Query> queries;
  bool down = false;
  int64_t newest_sample = kZero + 10'000;

  std::string point(int64_t t, double v) const {
    char buf[96];
    // %.17g: Unix seconds as values (timestamp()) must survive exactly.
    std::snprintf(buf, sizeof buf, "[%lld.%03lld,\"%.17g\"]", static_cast<long long>(t / 1000),
                  static_cast<long long>(t % 1000), v);
    return buf;
  }
  double value(const std::string& expr, int64_t t) const {
    if (expr.rfind("up", 0) == 0) return t == kZero + 1000 ? 0 : 1;
    return static_cast<double>(t - kZero) / 100.0;
  }
  std::string series(const std::string& expr, const std::vector<int64_t>& times,
                     bool matrix) const {
    const bool up = expr.rfind("up", 0) == 0;
    std::string metric =
        up ? R"({"__name__":"up","job":"api"})" : R"({"__name__":"g","job":"api"})";
    if (!matrix)
      return "{\"metric\":" + metric + ",\"value\":" + point(times[0], value(expr, times[0])) + "}";
    std::string values;
    for (int64_t t : times) values += (values.empty() ? "" : ",") + point(t, value(expr, t));
    return "{\"metric\":" + metric + ",\"values\":[" + values + "]}";
  }

  HttpResponse operator()(const HttpRequest& req) {
    HttpResponse r;
    if (down) {
      r.error = "Connection refused";
      r.error_class = "refused";
      return r;
    }
    auto form = decode_form(req.body);
    Query q;
    q.path = req.url.substr(req.url.find("/api/"));
    q.expr = form["query"];
    r.status = 200;
    std::string result, type = "vector";
    if (q.path == "/api/v1/query_range") {
      q.start = ms_of(form["start"]);
      q.end = ms_of(form["end"]);
      q.step = ms_of(form["step"]);
      std::vector<int64_t> times;
      for (int64_t t = q.start; t <= q.end; t += q.step) times.push_back(t);
      result = series(q.expr, times, true);
      type = "matrix";
    } else {
      q.time = ms_of(form["time"]);
      if (q.expr.rfind("count(up{job=\"ghost\"", 0) == 0)
        result = "";
      else if (q.expr.rfind("count(", 0) == 0)
        result = "{\"metric\":{},\"value\":" + point(q.time, 1) + "}";
      else if (q.expr.rfind("max(timestamp(", 0) == 0)
        result = "{\"metric\":{},\"value\":" + point(q.time, newest_sample / 1000.0) + "}";
      else
        result = series(q.expr, {q.time}, false);
    }
    queries.push_back(q);
    r.body =
        R"({"status":"success","data":{"resultType":")" + type + R"(","result":[)" + result + "]}}";
    return r;
  }
};

ObserveSource prometheus_source() {
  ObserveSource s;
  s.source = "prometheus";
  s.url = "http://127.0.0.1:9/";
  s.wait = 0s;
  return s;
}

struct Pulled {
  size_t tick;
  std::optional<std::string> body;
  std::string error;
};

}  // namespace

TEST_CASE("the selector adds the families of interest to the environment's matchers") {
  ObserveSource s = prometheus_source();
  const PrometheusPull pull(s, kZero, [](const HttpRequest&) { return HttpResponse{}; });
  CHECK(pull.selector("api", {"a_seconds", "b_total"}) ==
        "{job=\"api\",__name__=~\"(a_seconds|b_total)(_bucket|_sum|_count)?\"}");
  CHECK(pull.selector("api", {}) == "{job=\"api\"}");
  s.match = "service=\"{service}\",namespace=\"shop\"";
  const PrometheusPull custom(s, kZero, [](const HttpRequest&) { return HttpResponse{}; });
  CHECK(custom.selector("payment", {}) == "{service=\"payment\",namespace=\"shop\"}");
}

TEST_CASE("grid ticks come from one range query, the others from instant queries") {
  FakePrometheus fake;
  const PrometheusPull pull(prometheus_source(), kZero, std::ref(fake));
  const std::vector<Duration> ticks = {0s, 1s, 1500ms, 2s, 3s};
  std::vector<Pulled> got;
  pull.pull(
      {"api"}, {"g"}, ticks, 2s, 1s,
      [&](const std::string& job, size_t i, std::optional<std::string> body, std::string error) {
        CHECK(job == "api");
        got.push_back({i, std::move(body), std::move(error)});
      });
  // For the series and then for up: a range query over [0, 2 s] at 1 s and an instant query
  // at 1.5 s. Plan time 3 s lies beyond `until`.
  REQUIRE(fake.queries.size() == 4);
  CHECK(fake.queries[0].path == "/api/v1/query_range");
  CHECK(fake.queries[0].start == kZero);
  CHECK(fake.queries[0].end == kZero + 2000);
  CHECK(fake.queries[0].step == 1000);
  CHECK(fake.queries[1].path == "/api/v1/query");
  CHECK(fake.queries[1].time == kZero + 1500);
  CHECK(fake.queries[2].expr == "up{job=\"api\"}");
  REQUIRE(got.size() == 4);
  CHECK(got[0].tick == 0);
  REQUIRE(got[0].body);
  CHECK(*got[0].body == "g{job=\"api\"} 0\n");
  // up == 0 at 1 s: a failed scrape, as a direct scrape that got no answer.
  CHECK(got[1].tick == 1);
  CHECK_FALSE(got[1].body);
  CHECK(got[1].error.find("could not scrape it") != std::string::npos);
  CHECK(got[2].tick == 2);
  REQUIRE(got[2].body);
  CHECK(*got[2].body == "g{job=\"api\"} 15\n");
  CHECK(got[3].tick == 3);
  REQUIRE(got[3].body);
  CHECK(*got[3].body == "g{job=\"api\"} 20\n");
}

TEST_CASE("ticks after the newest sample fail instead of reading old values") {
  FakePrometheus fake;
  fake.newest_sample = kZero + 1200;
  const PrometheusPull pull(prometheus_source(), kZero, std::ref(fake));
  const auto caught_up = pull.wait_caught_up({"api"}, 2s);
  REQUIRE(caught_up.gave_up.size() == 1);
  INFO(caught_up.gave_up[0]);
  CHECK(caught_up.gave_up[0].find(
            "api: Prometheus had sampled it only up to plan time 1.2s of 2s") == 0);
  std::vector<Pulled> got;
  pull.pull(
      {"api"}, {"g"}, {0s, 2s}, 2s, 1s,
      [&](const std::string&, size_t i, std::optional<std::string> body, std::string error) {
        got.push_back({i, std::move(body), std::move(error)});
      },
      &caught_up);
  REQUIRE(got.size() == 2);
  CHECK(got[0].body);
  CHECK_FALSE(got[1].body);
  CHECK(got[1].error.find("had not sampled it this late") != std::string::npos);
}

TEST_CASE("a server that does not answer fails every tick with the reason") {
  FakePrometheus fake;
  fake.down = true;
  const PrometheusPull pull(prometheus_source(), kZero, std::ref(fake));
  std::vector<Pulled> got;
  pull.pull({"api"}, {}, {0s, 1s}, 1s, 1s,
            [&](const std::string&, size_t i, std::optional<std::string> body, std::string error) {
              got.push_back({i, std::move(body), std::move(error)});
            });
  REQUIRE(got.size() == 2);
  for (const auto& g : got) {
    CHECK_FALSE(g.body);
    CHECK(g.error == "Prometheus at http://127.0.0.1:9/ did not answer: Connection refused");
  }
  const auto problem = pull.preflight({"api"});
  REQUIRE(problem);
  CHECK(problem->find("did not answer") != std::string::npos);
}

TEST_CASE("preflight names a service Prometheus does not scrape, and its selector") {
  FakePrometheus fake;
  const PrometheusPull pull(prometheus_source(), kZero, std::ref(fake));
  CHECK_FALSE(pull.preflight({"api"}));
  const auto problem = pull.preflight({"api", "ghost"});
  REQUIRE(problem);
  CHECK(*problem ==
        "Prometheus at http://127.0.0.1:9/ has no series up{job=\"ghost\"}: it does not scrape "
        "ghost under that selector (see observe.match in the environment)");
}
