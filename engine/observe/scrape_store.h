// ScrapeStore: the server-side observations of a run. For each target (a logical service name,
// queried as the pseudo-label `job`) it keeps the time-ordered scrapes at plan times and
// answers window queries: counter increase and rate, gauge max/min/avg/last, and
// histogram_quantile over a window's bucket increase. It is filled by the runner, or from a
// recording (scrape_log.h: load_scrape_log), and needs no services.
//
// Window semantics (TimeWindow is [start, end) in plan time):
//  - Counters (increase, rate, histogram buckets and counts) describe what happened during the
//    window, so they are measured between two scrapes: the baseline is the last successful
//    scrape at or before `start`, and the window runs over every successful scrape after
//    `start` up to and including the last one at or before `end`. The increase is the sum of
//    the positive differences between consecutive values of a series; a value below its
//    predecessor is a counter reset and counts in full (as Prometheus does). A series absent
//    from the baseline scrape but present later counts from 0 (clients create labelled
//    counters on first use); with no scrape at or before `start` the first value in the window
//    is the baseline. Unlike Prometheus' increase() nothing is extrapolated to the window
//    edges: scrapes are taken on plan ticks, which include every phase boundary, so the
//    difference is exact. rate = increase / window length in seconds.
//  - Gauges describe the state seen during the window: the successful scrapes with a time in
//    [start, end). At each scrape the matching series are combined (sum by default, like
//    PromQL's sum()), then max/min/avg/last are taken over those scrapes.
//  - NaN values are skipped. Failed scrapes are kept apart (failures()) and counted in results.
//
// Memory: a series costs 8 bytes per scrape from its first appearance on, plus its labels.
// Only the metrics of interest are kept (Options::metric_names; a family name keeps all of its
// samples, e.g. x_bucket/x_sum/x_count), and at most max_series_per_target distinct series
// per target (later new series are dropped and counted). A 1-hour run at 1 s with 500 series
// needs about 15-30 MB.
//
// A `job` label in an exposition is renamed `exported_job`, as Prometheus does without
// honor_labels, so `job` always means the target. A target named "<service>#<K>" (one instance
// of a service that runs several) is also selected by its service's name: job="api" reads
// api#0, api#1, ... together, job="api#1" one of them, job!="api" none.
//
// Thread-safety: none; one writer, queries after (or between) writes on the same thread.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/units.h"
#include "observe/label_matcher.h"
#include "observe/metrics_text.h"
#include "observe/metrics_text_parser.h"
#include "observe/time_window.h"

namespace faultline::observe {

// Which series a query reads: the metric (sample name; for histogram queries the family name,
// e.g. "http_request_duration_seconds" for its _bucket and _count series) and matchers, which
// may use `job`.
struct SeriesSelector {
  std::string metric;
  LabelMatchers matchers;
};

// The answer to a window query. `value` is NaN when no series had data in the window.
struct WindowValue {
  double value = std::numeric_limits<double>::quiet_NaN();
  size_t series = 0;          // series that had data in the window
  size_t scrapes = 0;         // successful scrapes read, summed over targets
  size_t failed_scrapes = 0;  // failed scrapes of the selected targets in the window
  // The earliest of them, as "<job> at <time>: <reason>"; empty when none failed.
  std::string first_failure;
  bool has_data() const { return series > 0; }
  // "3 scrape(s) failed in the window; the first, api at 12s: HTTP 503"; empty when none did.
  std::string failure_note() const;
};

struct QuantileValue : WindowValue {
  double observations = 0;  // increase of the +Inf bucket (after the monotonicity fix)
  // The summed bucket increases were not monotonic and were fixed up as Prometheus does.
  bool forced_monotonic = false;
};

// Why a scrape failed, in words for verdicts and reports, from what the HTTP call gave:
// "HTTP 503: <start of the body>", "timeout after 2s (<curl's message>)", "connection
// refused (...)", or the call's own message (a body over the size cap, a cancelled call). Bytes
// of the body that are not printable ASCII are shown as '?', and at most kMaxBodyExcerpt of
// them are kept, so the reason is always short, valid text.
inline constexpr size_t kMaxBodyExcerpt = 200;
std::string describe_scrape_failure(int http_status, std::string_view error_class,
                                    std::string_view error, std::string_view body,
                                    Duration timeout);

enum class GaugeFunction { kMax, kMin, kAvg, kLast };

// How the matching series are combined at one scrape before aggregating over time.
enum class SeriesCombine { kSum, kMax, kMin, kAvg };

struct ScrapeFailure {
  Duration at{0};
  std::string error;
};

class ScrapeStore {
 public:
  struct Options {
    std::vector<std::string> metric_names;  // of interest; empty: every metric
    size_t max_series_per_target = 20000;
  };

  ScrapeStore() : ScrapeStore(Options{}) {}
  explicit ScrapeStore(Options options);
  ~ScrapeStore();
  ScrapeStore(ScrapeStore&&) noexcept;
  ScrapeStore& operator=(ScrapeStore&&) noexcept;

  // Records a successful scrape of `job` at plan time `at`.
  // REQUIRES: `at` is later than every earlier scrape (successful or failed) of `job`; throws
  // std::invalid_argument otherwise.
  void add_scrape(std::string_view job, Duration at, const Exposition& scrape);

  // Records a scrape that failed (unreachable, HTTP error, parse error).
  void add_failed_scrape(std::string_view job, Duration at, std::string error);

  // Parses `body` and records it; a parse error is recorded as a failed scrape. Returns the
  // error message, or nullopt on success.
  std::optional<std::string> add_scrape_text(std::string_view job, Duration at,
                                             std::string_view body);

  // Counter increase over the window (see the header comment), summed over matching series.
  WindowValue increase(const SeriesSelector& selector, TimeWindow window) const;
  // increase / window seconds.
  WindowValue rate(const SeriesSelector& selector, TimeWindow window) const;
  WindowValue gauge(GaugeFunction function, const SeriesSelector& selector, TimeWindow window,
                    SeriesCombine combine = SeriesCombine::kSum) const;
  // histogram_quantile(q, sum by (le) (increase(<metric>_bucket{matchers}[window]))) with the
  // semantics of histogram_quantile.h. Buckets whose `le` does not parse are skipped.
  QuantileValue histogram_quantile(double q, const SeriesSelector& selector,
                                   TimeWindow window) const;
  // A state series, one that exists only while its state holds (Prometheus' ALERTS): at every
  // successful scrape in [start, end] (both ends) of the targets the `job` matchers select, the
  // sum of the selected series then, 0 where none was present. Empty when those targets had no
  // successful scrape in the window; `failures` (when given) gets the failed ones.
  std::vector<std::pair<Duration, double>> state_timeline(const SeriesSelector& selector,
                                                          TimeWindow window,
                                                          WindowValue* failures = nullptr) const;

  // increase(<metric>_count{matchers}) over the window: the observation count, for the
  // traffic guard.
  WindowValue histogram_count_increase(const SeriesSelector& selector, TimeWindow window) const;

  std::vector<std::string> jobs() const;  // in order of first scrape
  size_t scrape_count(std::string_view job) const;
  size_t series_count() const;
  // Samples not stored because their target reached max_series_per_target.
  size_t dropped_samples() const;
  const std::vector<ScrapeFailure>& failures(std::string_view job) const;
  // Heap bytes held (an estimate from container capacities).
  size_t memory_bytes() const;

 private:
  struct Target;
  Target& target(std::string_view job);
  const Target* find_target(std::string_view job) const;
  bool of_interest(std::string_view family, std::string_view sample) const;

  Options options_;
  std::set<std::string, std::less<>> interest_;
  std::vector<std::unique_ptr<Target>> targets_;
  MetricsTextParser parser_;
};

}  // namespace faultline::observe
