#include "observe/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace faultline::observe {

namespace {
constexpr int64_t kLinear = int64_t{1} << LatencyHistogram::kSubBucketBits;  // 128

// The sum saturates instead of wrapping: only centuries of summed latency reach it.
int64_t saturating_add(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<int64_t>::max() : r;
}
int64_t saturating_mul(int64_t v, uint64_t n) {
  int64_t r;
  if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
      __builtin_mul_overflow(v, static_cast<int64_t>(n), &r)) {
    return std::numeric_limits<int64_t>::max();
  }
  return r;
}
}  // namespace

uint64_t quantile_rank(double q, uint64_t n) {
  const double r = q * static_cast<double>(n);
  double rank = std::ceil(r);
  // q*n may land just above an integer through rounding (0.07*100 = 7.000000000000001).
  if (rank >= 2 && rank - 1 >= r - r * 4 * DBL_EPSILON) rank -= 1;
  if (rank < 1) rank = 1;
  if (rank > static_cast<double>(n)) return n;
  return static_cast<uint64_t>(rank);
}

uint32_t LatencyHistogram::bucket_index(int64_t v) {
  if (v < kLinear) return static_cast<uint32_t>(std::max<int64_t>(v, 0));
  const int e = 63 - std::countl_zero(static_cast<uint64_t>(v));  // >= kSubBucketBits
  const int shift = e - kSubBucketBits;
  const int64_t sub = (v >> shift) & (kLinear - 1);
  return static_cast<uint32_t>((shift + 1) * kLinear + sub);
}

int64_t LatencyHistogram::bucket_lowest_us(uint32_t index) {
  if (index < kLinear) return index;
  const int shift = static_cast<int>(index / kLinear) - 1;
  const int64_t sub = index % kLinear;
  return (kLinear + sub) << shift;
}

int64_t LatencyHistogram::bucket_width_us(uint32_t index) {
  if (index < kLinear) return 1;
  return int64_t{1} << (static_cast<int>(index / kLinear) - 1);
}

double LatencyHistogram::bucket_middle_us(uint32_t index) {
  return static_cast<double>(bucket_lowest_us(index)) +
         static_cast<double>(bucket_width_us(index) - 1) / 2;
}

void LatencyHistogram::record_n(int64_t v, uint64_t n) {
  if (n == 0) return;
  v = std::max<int64_t>(v, 0);
  const uint32_t i = bucket_index(v);
  if (i >= counts_.size()) counts_.resize(i + 1, 0);
  counts_[i] += n;
  if (count_ == 0) {
    min_us_ = max_us_ = v;
  } else {
    min_us_ = std::min(min_us_, v);
    max_us_ = std::max(max_us_, v);
  }
  count_ += n;
  sum_us_ = saturating_add(sum_us_, saturating_mul(v, n));
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  if (count_ == 0) {
    min_us_ = other.min_us_;
    max_us_ = other.max_us_;
  } else {
    min_us_ = std::min(min_us_, other.min_us_);
    max_us_ = std::max(max_us_, other.max_us_);
  }
  count_ += other.count_;
  sum_us_ = saturating_add(sum_us_, other.sum_us_);
}

double LatencyHistogram::mean_us() const {
  if (count_ == 0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(sum_us_) / static_cast<double>(count_);
}

double LatencyHistogram::quantile_us(double q) const {
  if (count_ == 0 || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  if (q <= 0) return static_cast<double>(min_us_);
  if (q >= 1) return static_cast<double>(max_us_);
  const uint64_t rank = quantile_rank(q, count_);
  uint64_t seen = 0;
  for (uint32_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      return std::clamp(bucket_middle_us(i), static_cast<double>(min_us_),
                        static_cast<double>(max_us_));
    }
  }
  return static_cast<double>(max_us_);  // unreachable: the counts add up to count_
}

std::vector<std::pair<uint32_t, uint64_t>> LatencyHistogram::sparse_counts() const {
  std::vector<std::pair<uint32_t, uint64_t>> out;
  for (uint32_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) out.emplace_back(i, counts_[i]);
  }
  return out;
}

LatencyHistogram LatencyHistogram::from_sparse_counts(
    const std::vector<std::pair<uint32_t, uint64_t>>& counts, int64_t sum_us, int64_t min_us,
    int64_t max_us) {
  LatencyHistogram h;
  for (const auto& [index, n] : counts) {
    if (index >= kBucketCount) throw std::invalid_argument("latency histogram bucket out of range");
    if (index >= h.counts_.size()) h.counts_.resize(index + 1, 0);
    h.counts_[index] += n;
    h.count_ += n;
  }
  if (h.count_ > 0) {
    if (min_us > max_us || bucket_index(min_us) != h.sparse_counts().front().first ||
        bucket_index(max_us) != h.sparse_counts().back().first) {
      throw std::invalid_argument("latency histogram min/max do not match its buckets");
    }
    h.sum_us_ = sum_us;
    h.min_us_ = min_us;
    h.max_us_ = max_us;
  }
  return h;
}

}  // namespace faultline::observe
