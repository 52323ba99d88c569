// Bootstrap confidence intervals for the relative change of a client metric between two runs.
//
// Why a bootstrap: the gates ask about quantiles (p95, p99) of latency, which have no simple
// closed-form test; a rank test such as Mann-Whitney answers "do the distributions differ",
// not "did the p95 the SRE asked about improve". Resampling each run's requests with
// replacement and recomputing the statistic on both gives the sampling distribution of the
// change directly, for any statistic, with no assumption about the latency distribution.
//
// Method (percentile bootstrap): for each of `resamples` replicates, draw n_b requests from
// the baseline's n_b and n_c from the candidate's n_c, uniformly with replacement; compute
// the statistic on both; take the relative improvement (the judge's formula:
// (b - c) / |b|, or (c - b) / |b| for metrics that are better higher; from b = 0: 0 when c is
// 0 too, else +-infinity). The interval is the (1-confidence)/2 and (1+confidence)/2
// percentiles of the replicates.
//
// Determinism: every draw comes from faultline::Rng (common/rng.h), one stream per run and
// question derived from the caller's seed and `stream`; the same inputs give the same
// interval bit for bit on every machine and compiler. Runtime is O(resamples * (n_b + n_c)).
//
// Quantiles use observe::quantile_rank (the rank ceil(q*n), as LatencyHistogram does) on the
// exact latencies, so the raw-sample point value matches the judge's histogram value within
// the histogram's bucket error (0.4%).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace faultline::compare {

// One run's requests for one question, ready to resample. Items are requests: a latency and
// a flag saying whether the request is in the numerator of a proportion or count.
class RunSample {
 public:
  void add(int64_t latency_us, bool flagged);
  // Sorts the items by latency (quantiles need it). Call once after the last add().
  void finish();

  size_t size() const { return latency_us_.size(); }
  const std::vector<int64_t>& latency_us() const { return latency_us_; }
  const std::vector<uint8_t>& flagged() const { return flagged_; }
  // Count statistics are multiplied by this (1 / window seconds turns a count into rps).
  double scale = 1;

 private:
  std::vector<int64_t> latency_us_;  // ascending after finish()
  std::vector<uint8_t> flagged_;     // parallel to latency_us_
};

struct Statistic {
  enum class Kind {
    kQuantile,    // latency quantile q, seconds
    kMax,         // largest latency, seconds
    kMean,        // mean latency, seconds
    kProportion,  // flagged / all (error_rate)
    kCount,       // flagged * scale (count, rps)
  };
  Kind kind = Kind::kQuantile;
  double q = 0;                   // kQuantile only
  bool higher_is_better = false;  // rps only
};

// The statistic behind a client metric name (any quantile p50 p97 p999 ..., max
// mean error_rate count rps),
// or empty for an unknown name.
std::optional<Statistic> statistic_for_metric(std::string_view metric);

// The statistic computed on the whole sample. REQUIRES: sample.size() > 0.
double statistic_value(const RunSample& sample, const Statistic& statistic);

// The judge's relative improvement from `baseline` to `candidate` (see the header comment).
double relative_improvement(double baseline, double candidate, bool higher_is_better);

struct BootstrapOptions {
  int resamples = 2000;
  double confidence = 0.95;  // in (0, 1)
  uint64_t seed = 0;
};

// The improvement of one statistic and its interval. Bounds may be +-infinity (a baseline of
// zero in some replicates, e.g. an error rate that is 0 in resamples of a run with few errors).
struct ChangeEstimate {
  double point = 0;  // on the whole samples
  double low = 0;
  double high = 0;
  double confidence = 0.95;
  int resamples = 0;
  // The interval excludes 0: the change is real at this confidence.
  bool significant_improvement() const { return low > 0; }
  bool significant_regression() const { return high < 0; }
};

// Bootstraps every statistic in `statistics` on the same replicates (one draw per replicate
// serves them all). `stream` names the question, so different questions use independent
// draws. REQUIRES: both samples non-empty, finished; options.resamples >= 1.
std::vector<ChangeEstimate> bootstrap_improvements(const RunSample& baseline,
                                                   const RunSample& candidate,
                                                   const std::vector<Statistic>& statistics,
                                                   const BootstrapOptions& options,
                                                   std::string_view stream);

}  // namespace faultline::compare
