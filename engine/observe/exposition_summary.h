// What `faultline inspect` shows of one scrape: per family its type, help, series and the
// figures a spec author wants to check before writing an assertion (a counter's total, a
// histogram's count, sum and quantiles), plus the selector syntax used to narrow it down.
// Pure: takes a parsed Exposition (metrics_text.h), returns values; printing is the caller's.
//
// Semantics:
//  - A histogram's series are its label sets without `le` (the _bucket, _sum and _count
//    samples of one set form one series); a summary's, its label sets without `quantile`.
//    Every other family's series are its samples.
//  - Histogram quantiles are PromQL's histogram_quantile (histogram_quantile.h) over the
//    cumulative buckets as they stand, so they describe everything the process has observed
//    since it started: per series, and over all series with buckets of the same `le` added
//    (`histogram_quantile(q, sum by (le) (x_bucket))`). Buckets whose `le` is not a number are
//    skipped.
//  - Counter, gauge and untyped totals add the values of the series (NaN values are skipped, as
//    PromQL's sum() does not: one NaN would hide the rest).
//  - Filters select samples: a family is shown when at least one of its samples is selected,
//    and only selected samples count.
#pragma once

#include <array>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "observe/label_matcher.h"
#include "observe/metrics_text.h"

namespace faultline::observe {

// The quantile levels inspect computes for histograms.
inline constexpr std::array<double, 3> kInspectQuantiles = {0.5, 0.9, 0.99};

// A PromQL series selector as written on a command line: `name`, `name{l="v", m=~"re"}` or
// `{l!="v"}` (operators =, !=, =~, !~; values in double quotes with \" \\ \n escapes).
struct SelectorText {
  std::string metric;  // "" selects every name
  LabelMatchers matchers;
};

// Throws std::invalid_argument "at byte N: expected ..." for anything else (including a regex
// that does not compile).
SelectorText parse_selector_text(std::string_view text);

// Which samples to summarize. A sample is selected when its family is `family` (when set) and
// it satisfies at least one selector (when there are any). A selector's metric matches the
// family's name or the sample's own name (`x` or `x_bucket` for histogram x).
struct ExpositionFilter {
  std::string family;
  std::vector<SelectorText> selectors;
};

struct SeriesSummary {
  std::string name;  // sample name; for histograms and summaries the family name
  Labels labels;     // without `le` / `quantile`
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  double value = kNaN;  // counter, gauge, untyped: the value (total: the sum)
  double count = kNaN;  // histogram, summary: the _count sample (total: summed)
  double sum = kNaN;    // histogram, summary: the _sum sample (total: summed)
  // histogram: histogram_quantile at kInspectQuantiles over the cumulative buckets.
  std::array<double, kInspectQuantiles.size()> quantiles = {kNaN, kNaN, kNaN};
  bool forced_monotonic = false;  // some bucket counts were raised (histogram_quantile.h)
};

struct FamilySummary {
  std::string name;
  MetricType type = MetricType::kUntyped;
  std::string help;
  size_t samples = 0;                 // selected samples
  SeriesSummary total;                // over every selected series; labels empty
  std::vector<SeriesSummary> series;  // in order of first sample
};

// The families of `exposition` with a selected sample, in exposition order.
std::vector<FamilySummary> summarize_exposition(const Exposition& exposition,
                                                const ExpositionFilter& filter = {});

// `name{a="1",b="x\"y"}`: labels written as the text format writes them; `{}` left out.
std::string series_text(std::string_view name, const Labels& labels);

}  // namespace faultline::observe
