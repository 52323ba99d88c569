#include "compare/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "common/rng.h"
#include "dsl/vocabulary.h"
#include "observe/latency_histogram.h"

namespace faultline::compare {

namespace {

// Multiplicities of a resample: counts[i] is how often item i was drawn. Drawing n indices
// and counting them is the same as resampling the items, and lets every statistic be read in
// one ordered pass, with no sort per replicate.
void draw(size_t n, Rng& rng, std::vector<uint32_t>& counts) {
  counts.assign(n, 0);
  for (size_t i = 0; i < n; ++i) ++counts[rng.uniform_below(n)];
}

// The statistic of a resample given by its multiplicities (all ones: the sample itself).
double on_counts(const RunSample& s, const std::vector<uint32_t>& counts, const Statistic& st) {
  const auto& lat = s.latency_us();
  const size_t n = lat.size();
  switch (st.kind) {
    case Statistic::Kind::kQuantile: {
      const uint64_t rank = observe::quantile_rank(st.q, n);
      uint64_t seen = 0;
      for (size_t i = 0; i < n; ++i) {
        seen += counts[i];
        if (seen >= rank) return static_cast<double>(lat[i]) / 1e6;
      }
      return static_cast<double>(lat.back()) / 1e6;
    }
    case Statistic::Kind::kMax:
      for (size_t i = n; i-- > 0;)
        if (counts[i] != 0) return static_cast<double>(lat[i]) / 1e6;
      return 0;
    case Statistic::Kind::kMean: {
      double sum_us = 0;
      for (size_t i = 0; i < n; ++i) sum_us += static_cast<double>(counts[i]) * lat[i];
      return sum_us / static_cast<double>(n) / 1e6;
    }
    case Statistic::Kind::kProportion:
    case Statistic::Kind::kCount: {
      uint64_t hits = 0;
      const auto& flagged = s.flagged();
      for (size_t i = 0; i < n; ++i) hits += counts[i] * flagged[i];
      return st.kind == Statistic::Kind::kCount ? static_cast<double>(hits) * s.scale
                                                : static_cast<double>(hits) / n;
    }
  }
  return 0;
}

}  // namespace

void RunSample::add(int64_t latency_us, bool flagged) {
  latency_us_.push_back(latency_us);
  flagged_.push_back(flagged ? 1 : 0);
}

void RunSample::finish() {
  std::vector<size_t> order(latency_us_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Stable: equal latencies keep their order, so the result does not depend on the sort.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return latency_us_[a] < latency_us_[b]; });
  std::vector<int64_t> lat(order.size());
  std::vector<uint8_t> flag(order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    lat[i] = latency_us_[order[i]];
    flag[i] = flagged_[order[i]];
  }
  latency_us_ = std::move(lat);
  flagged_ = std::move(flag);
}

std::optional<Statistic> statistic_for_metric(std::string_view metric) {
  using K = Statistic::Kind;
  if (const auto q = dsl::quantile_level(metric)) return Statistic{K::kQuantile, *q};
  if (metric == "max") return Statistic{K::kMax};
  if (metric == "mean") return Statistic{K::kMean};
  if (metric == "error_rate") return Statistic{K::kProportion};
  if (metric == "count") return Statistic{K::kCount};
  if (metric == "rps") return Statistic{K::kCount, 0, true};
  return std::nullopt;
}

double statistic_value(const RunSample& sample, const Statistic& statistic) {
  if (sample.size() == 0) throw std::invalid_argument("statistic_value: empty sample");
  return on_counts(sample, std::vector<uint32_t>(sample.size(), 1), statistic);
}

double relative_improvement(double baseline, double candidate, bool higher_is_better) {
  const double gain = higher_is_better ? candidate - baseline : baseline - candidate;
  if (baseline != 0) return gain / std::fabs(baseline);
  return gain == 0 ? 0 : gain > 0 ? INFINITY : -INFINITY;
}

std::vector<ChangeEstimate> bootstrap_improvements(const RunSample& baseline,
                                                   const RunSample& candidate,
                                                   const std::vector<Statistic>& statistics,
                                                   const BootstrapOptions& options,
                                                   std::string_view stream) {
  if (baseline.size() == 0 || candidate.size() == 0)
    throw std::invalid_argument("bootstrap_improvements: empty sample");
  if (options.resamples < 1) throw std::invalid_argument("bootstrap_improvements: no resamples");
  const Rng root = Rng(options.seed).derive(stream);
  Rng base_rng = root.derive("baseline");
  Rng cand_rng = root.derive("candidate");
  const size_t k = statistics.size();
  const size_t b = static_cast<size_t>(options.resamples);
  std::vector<std::vector<double>> replicates(k, std::vector<double>(b));
  std::vector<uint32_t> base_counts, cand_counts;
  for (size_t r = 0; r < b; ++r) {
    draw(baseline.size(), base_rng, base_counts);
    draw(candidate.size(), cand_rng, cand_counts);
    for (size_t s = 0; s < k; ++s) {
      replicates[s][r] = relative_improvement(on_counts(baseline, base_counts, statistics[s]),
                                              on_counts(candidate, cand_counts, statistics[s]),
                                              statistics[s].higher_is_better);
    }
  }
  // Percentile interval: as many replicates below `low` as above `high`.
  const size_t tail = static_cast<size_t>(std::floor(b * (1 - options.confidence) / 2));
  std::vector<ChangeEstimate> out(k);
  for (size_t s = 0; s < k; ++s) {
    std::vector<double>& v = replicates[s];
    std::sort(v.begin(), v.end());
    ChangeEstimate& e = out[s];
    e.point = relative_improvement(statistic_value(baseline, statistics[s]),
                                   statistic_value(candidate, statistics[s]),
                                   statistics[s].higher_is_better);
    e.low = v[std::min(tail, b - 1)];
    e.high = v[b - 1 - std::min(tail, b - 1)];
    e.confidence = options.confidence;
    e.resamples = options.resamples;
  }
  return out;
}

}  // namespace faultline::compare
