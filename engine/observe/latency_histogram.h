// LatencyHistogram: client-side latency distribution in whole microseconds, log-linear like
// HdrHistogram, with exact count, sum, min and max, and exact merging.
//
// The sum saturates at INT64_MAX (292,000 years of latency) rather than wrapping.
//
// Layout (version 1; merged shards and stored artifacts depend on it): values 0..127 us each
// have their own bucket; above that every power-of-two range [2^e, 2^(e+1)) is cut into 128
// equal buckets. A bucket's width is at most 1/128 of its lower bound, and a value is reported
// as the middle of its bucket, so the relative error is at most 1/256 (0.4%) for every value
// from 1 us up to int64 max, far beyond the 1% required from 1 us to 1 hour. Negative values
// are recorded as 0.
//
// Quantiles: the value of rank quantile_rank(q, n) (1-based) in the sorted samples, i.e.
// ceil(q*n) with q=0 giving rank 1; reported as its bucket's middle, clamped to [min, max].
// q=0 is exactly min and q=1 exactly max. The same convention as the raw-sample code uses
// (quantile_rank), so in-memory and replayed figures agree within the bucket error.
//
// Memory: the bucket array grows to the highest bucket used: about 26 KB for values up to an
// hour, at most 58 KB. Thread-safety: a value type; no internal locking.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace faultline::observe {

// The 1-based rank of quantile q among n sorted values: ceil(q*n), at least 1 and at most n.
// A product within rounding error of an integer counts as that integer (0.07*100 is 7, not 8).
// REQUIRES: n > 0, 0 <= q <= 1.
uint64_t quantile_rank(double q, uint64_t n);

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;  // 128 buckets per power of two
  // Indices run from 0 to bucket_index(INT64_MAX) = kBucketCount - 1.
  static constexpr uint32_t kBucketCount = (63 - kSubBucketBits + 1) * 128;

  void record(int64_t value_us) { record_n(value_us, 1); }
  void record_n(int64_t value_us, uint64_t n);
  // Bucket-wise addition: the result is exactly the histogram of both sample sets.
  void merge(const LatencyHistogram& other);

  uint64_t count() const { return count_; }
  int64_t sum_us() const { return sum_us_; }
  int64_t min_us() const { return count_ ? min_us_ : 0; }
  int64_t max_us() const { return count_ ? max_us_ : 0; }
  double mean_us() const;  // NaN when empty
  // See the header comment. NaN when empty; REQUIRES: 0 <= q <= 1.
  double quantile_us(double q) const;

  // The nonzero buckets as (index, count), ascending, and the inverse, for artifacts.
  std::vector<std::pair<uint32_t, uint64_t>> sparse_counts() const;
  static LatencyHistogram from_sparse_counts(
      const std::vector<std::pair<uint32_t, uint64_t>>& counts, int64_t sum_us, int64_t min_us,
      int64_t max_us);

  // Bucket geometry, for tests and serialisation: the bucket of a value, a bucket's lowest
  // value and its width.
  static uint32_t bucket_index(int64_t value_us);
  static int64_t bucket_lowest_us(uint32_t index);
  static int64_t bucket_width_us(uint32_t index);
  // The middle of the bucket: the value every sample in it is reported as.
  static double bucket_middle_us(uint32_t index);

  friend bool operator==(const LatencyHistogram&, const LatencyHistogram&) = default;

 private:
  std::vector<uint64_t> counts_;  // by bucket index, up to the highest one used
  uint64_t count_ = 0;
  int64_t sum_us_ = 0;
  int64_t min_us_ = 0;
  int64_t max_us_ = 0;
};

}  // namespace faultline::observe
