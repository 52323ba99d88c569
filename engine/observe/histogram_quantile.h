// histogram_quantile with exactly the semantics of Prometheus 2.42's bucketQuantile
// (promql/quantile.go), over classic cumulative buckets:
//  - q is NaN -> NaN; q < 0 -> -Inf; q > 1 -> +Inf (checked first, so even with no buckets).
//  - Buckets are sorted by upper bound; buckets with the same upper bound are added together.
//  - The highest bucket is not +Inf -> NaN. Fewer than 2 buckets -> NaN.
//  - Non-monotonic cumulative counts are fixed by taking the running maximum from the lowest
//    bucket up (ensureMonotonic); `forced_monotonic` says so, as Prometheus' annotation does.
//  - Zero observations (the +Inf bucket's count) -> NaN.
//  - rank = q * observations; the first bucket (excluding +Inf) whose count >= rank holds it,
//    found with Go's sort.Search. In the +Inf bucket: the upper bound of the second-highest
//    bucket. In the lowest bucket: interpolated from 0 when its upper bound is > 0, else its
//    upper bound. Otherwise linear interpolation inside the bucket.
// Deviations, both for inputs Prometheus handles by accident of its sort order: no buckets at
// all gives NaN (Prometheus returns no series), and a bucket whose upper bound is NaN is
// ignored (where Prometheus' result depends on where its sort happens to put it).
#pragma once

#include <vector>

namespace faultline::observe {

struct HistogramBucket {
  double upper_bound;  // the `le` label, parsed
  double count;        // cumulative count (or its increase over a window)
};

// Takes the buckets by value: they are sorted and merged in place. When `forced_monotonic` is
// given, it is set to whether a count had to be raised to make the buckets monotonic for the
// result (false when the result is NaN or infinite from a special case above).
double histogram_quantile(double q, std::vector<HistogramBucket> buckets,
                          bool* forced_monotonic = nullptr);

}  // namespace faultline::observe
