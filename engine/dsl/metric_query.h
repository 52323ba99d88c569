// What a statement asks of the observations: a client-side metric over request samples, or a
// server-side function over scraped Prometheus series. These plain values are the vocabulary
// between the DSL (which produces them) and judge/metric_source.h (which answers them).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace faultline::dsl {

// `p95(route=orders, status=5xx)`: metric is a quantile (p50 p75 p95 p99 p999 ..., see
// quantile_level) or one of max mean rps error_rate count. Selector keys: route, method,
// status, error; values as written (status "5xx" or "503", error
// "timeout|refused|reset|other", method "GET"). Selectors are kept in the canonical key order
// route, method, status, error; a key appears at most once.
struct ClientQuery {
  std::string metric;
  std::vector<std::pair<std::string, std::string>> selectors;
  bool operator==(const ClientQuery&) const = default;
};

// A Prometheus-style label matcher. op is one of "=", "!=", "=~", "!~"; regexes are anchored
// (the whole label value must match). The pseudo-label `job` selects the scrape target by
// service name.
struct LabelMatcher {
  std::string name;
  std::string op;
  std::string value;  // unescaped
  bool operator==(const LabelMatcher&) const = default;
};

// `metric.p95(http_request_duration_seconds{route="/orders"})`: function is a
// quantile p50 p90 p95 p99 p999 ... (histogram_quantile over the window's bucket increase of
// <metric_name>_bucket), max min avg last (gauges over the window's scrapes), increase rate
// (counters, resets handled). Matchers are sorted by (name, op, value).
struct ServerQuery {
  std::string function;
  std::string metric_name;
  std::vector<LabelMatcher> matchers;
  bool operator==(const ServerQuery&) const = default;
};

// A fact of the run as a whole, known once it is over (judge/run_facts.h):
//   `history.lost`               source "history", name one of history_names() (vocabulary.h)
//   `verify.effects("/count")`   source "verify", name the verify hook, pointer a JSON pointer
//                                into its output ("" for the whole output)
struct RunFactQuery {
  std::string source;
  std::string name;
  std::string pointer;  // verify only
  bool operator==(const RunFactQuery&) const = default;
};

}  // namespace faultline::dsl
