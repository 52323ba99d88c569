#include "observe/histogram_quantile.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

namespace faultline::observe {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Go's sort.Search: the smallest i in [0, n) with pred(i), or n. Written out (rather than
// std::partition_point) so that non-monotonic inputs, e.g. NaN counts, probe the same
// indices as Prometheus and give the same answer.
template <typename Pred>
size_t go_sort_search(size_t n, Pred pred) {
  size_t i = 0, j = n;
  while (i < j) {
    const size_t h = (i + j) >> 1;
    if (!pred(h)) {
      i = h + 1;
    } else {
      j = h;
    }
  }
  return i;
}

}  // namespace

double histogram_quantile(double q, std::vector<HistogramBucket> buckets, bool* forced_monotonic) {
  bool forced_storage = false;
  bool& forced = forced_monotonic ? *forced_monotonic : forced_storage;
  forced = false;
  if (std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  std::erase_if(buckets, [](const HistogramBucket& b) { return std::isnan(b.upper_bound); });
  if (buckets.empty()) return kNaN;
  std::sort(buckets.begin(), buckets.end(), [](const HistogramBucket& a, const HistogramBucket& b) {
    return a.upper_bound < b.upper_bound;
  });
  if (buckets.back().upper_bound != kInf) return kNaN;

  // coalesceBuckets
  size_t n = 0;
  for (size_t i = 1; i < buckets.size(); ++i) {
    if (buckets[i].upper_bound == buckets[n].upper_bound) {
      buckets[n].count += buckets[i].count;
    } else {
      buckets[++n] = buckets[i];
    }
  }
  buckets.resize(n + 1);

  // ensureMonotonic. Prometheus 2.42 starts from the lowest bucket's count (a NaN there
  // disables the fix-up), and so does this; tests/observe checks it against promtool.
  double max = buckets[0].count;
  for (size_t i = 1; i < buckets.size(); ++i) {
    if (buckets[i].count > max) {
      max = buckets[i].count;
    } else if (buckets[i].count < max) {
      buckets[i].count = max;
      forced = true;
    }
  }

  if (buckets.size() < 2 || buckets.back().count == 0) {
    forced = false;  // no quantile came out of the fixed buckets
    return kNaN;
  }
  const double observations = buckets.back().count;
  double rank = q * observations;
  const size_t b =
      go_sort_search(buckets.size() - 1, [&](size_t i) { return buckets[i].count >= rank; });
  if (b == buckets.size() - 1) return buckets[buckets.size() - 2].upper_bound;
  if (b == 0 && buckets[0].upper_bound <= 0) return buckets[0].upper_bound;
  double bucket_start = 0;
  const double bucket_end = buckets[b].upper_bound;
  double count = buckets[b].count;
  if (b > 0) {
    bucket_start = buckets[b - 1].upper_bound;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return bucket_start + (bucket_end - bucket_start) * (rank / count);
}

}  // namespace faultline::observe
