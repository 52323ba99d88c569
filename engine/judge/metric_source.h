// MetricSource: the one interface between judging and observations. The judge asks for one
// value at a time - a client metric or a server function over a window of plan time - and
// the source answers from whatever it holds (the live run, a recorded Observations file, a
// Prometheus server). Tests answer from a table. Value types only; no I/O in this header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/units.h"
#include "dsl/metric_query.h"

namespace faultline::judge {

using dsl::ClientQuery;
using dsl::LabelMatcher;
using dsl::ServerQuery;

// A stretch of plan time, [start, end): microseconds since the start of the first phase.
struct TimeWindow {
  Duration start{0};
  Duration end{0};
  std::string label;  // the DSL window it came from, e.g. "during(trigger)"
  bool operator==(const TimeWindow&) const = default;
};

// The answer to one query.
struct Observed {
  // In normalised units: seconds for latencies and duration-valued series, fractions for
  // error rates and *_ratio gauges (0.02 = 2%), per second for rps and rate(). Empty when
  // there is nothing to compute from; `note` then says why ("no samples", "series not found",
  // "counter has one scrape in the window").
  std::optional<double> value;
  // How much the value rests on, judged against the traffic guard:
  // - client metrics: the requests of the window that match the route and method selectors,
  //   and for latency metrics (p50..p999, max, mean) also the status and error selectors.
  //   (error_rate, count and rps use status/error to pick their numerator, so their sample
  //   count is the population they are a fraction or a count of.)
  // - server quantiles: the increase of the histogram's _count over the window.
  // - server gauges and counters: the scrapes inside the window.
  int64_t sample_count = 0;
  // Without a value: why there is none. With one: a remark judging repeats in the verdict
  // ("buckets were not monotonic; fixed up as Prometheus does").
  std::string note;
  // Set when part of what the value rests on could not be read, with the first reason:
  // "3 scrape(s) failed in the window; the first, api at 12s: HTTP 503". Judging names it
  // instead of advising more traffic when the value falls below the traffic guard. (Has an
  // initializer so that {value, count, note} stays a complete aggregate initialisation.)
  std::string failures = {};
};

// The state of one Prometheus alert (dsl/ast.h: AlertState) as read over a window: whether it
// was firing at each read of the alert source in [start, end] - both ends, so that `resolved`
// sees the state at the window's end. Empty when nothing was read; `note` then says why.
struct AlertReads {
  std::vector<std::pair<Duration, bool>> firing;  // (plan time, firing then), in time order
  std::string note;
  std::string failures;  // failed reads in the window, as Observed::failures
};

// Client metric semantics (for implementers):
//   p50 p95 p99 ...   latency quantile of the matching requests, measured from the intended
//                     send time; max, mean likewise.
//   error_rate        matching requests / population. Without status or error selectors a
//                     request is an error when it got a 5xx or a transport error.
//   rps               matching requests per second of window length.
//   count             matching requests.
// A request belongs to the window its intended send time falls into.
//
// Server semantics: those of observe/scrape_store.h (histogram_quantile over the window's
// bucket increase, gauges over the scrapes inside the window, counters between the scrapes
// bounding it, resets handled). Matchers are observe/label_matcher.h's: PromQL semantics,
// anchored RE2 regexes - the DSL checker validates regexes with the same engine. The
// pseudo-label `job` matches the service name of the scrape target.
class MetricSource {
 public:
  virtual ~MetricSource() = default;
  virtual Observed client(const TimeWindow& window, const ClientQuery& query) const = 0;
  virtual Observed server(const TimeWindow& window, const ServerQuery& query) const = 0;
  // A fact of the whole run (history.*, verify.*; judge/run_facts.h). Sources that keep none
  // (live judging, tables in tests) answer with no value and say so.
  virtual Observed run_fact(const dsl::RunFactQuery& query) const {
    (void)query;
    return {std::nullopt, 0, "not known to this source (only after the run)"};
  }
  // Alert state, from the ALERTS series of the Prometheus a run observes through
  // (run/prometheus_pull.h). Sources without one answer with nothing and say so.
  virtual AlertReads alert(const TimeWindow& window, const std::string& name) const {
    (void)window;
    (void)name;
    return {
        {}, "alert state is read from Prometheus, and this run did not observe through one", ""};
  }
};

}  // namespace faultline::judge
