#include "observe/latency_histogram.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "common/rng.h"

using faultline::Rng;
using faultline::observe::LatencyHistogram;
using faultline::observe::quantile_rank;

namespace {

// Log-uniform in [lo, hi] microseconds.
int64_t log_uniform(Rng& rng, double lo, double hi) {
  return static_cast<int64_t>(
      std::exp(std::log(lo) + rng.uniform01() * (std::log(hi) - std::log(lo))));
}

double relative_error(double reported, double exact) {
  return exact == 0 ? std::abs(reported) : std::abs(reported - exact) / exact;
}

}  // namespace

TEST_CASE("latency histogram: every value is within 1% of its bucket's reported value") {
  // Exhaustively for small values, then a property over 1 us .. 1 hour (and beyond).
  for (int64_t v = 0; v < 200'000; ++v) {
    const uint32_t i = LatencyHistogram::bucket_index(v);
    REQUIRE(LatencyHistogram::bucket_lowest_us(i) <= v);
    REQUIRE(v < LatencyHistogram::bucket_lowest_us(i) + LatencyHistogram::bucket_width_us(i));
    REQUIRE(relative_error(LatencyHistogram::bucket_middle_us(i), static_cast<double>(v)) <=
            1.0 / 256);
  }
  Rng rng(7);
  double worst = 0;
  for (int n = 0; n < 1'000'000; ++n) {
    const int64_t v = log_uniform(rng, 1, n % 10 == 0 ? 9.2e18 : 3.6e9);
    const uint32_t i = LatencyHistogram::bucket_index(v);
    REQUIRE(LatencyHistogram::bucket_lowest_us(i) <= v);
    REQUIRE(v - LatencyHistogram::bucket_lowest_us(i) < LatencyHistogram::bucket_width_us(i));
    worst = std::max(worst,
                     relative_error(LatencyHistogram::bucket_middle_us(i), static_cast<double>(v)));
  }
  CHECK(worst <= 1.0 / 256);
  CHECK(worst > 1.0 / 300);  // the bound is tight: the test would see a coarser layout
  // Buckets tile the line: each starts where the previous one ends.
  CHECK(LatencyHistogram::bucket_index(std::numeric_limits<int64_t>::max()) ==
        LatencyHistogram::kBucketCount - 1);
  for (uint32_t i = 1; i < LatencyHistogram::kBucketCount; ++i) {
    REQUIRE(LatencyHistogram::bucket_lowest_us(i) ==
            LatencyHistogram::bucket_lowest_us(i - 1) + LatencyHistogram::bucket_width_us(i - 1));
  }
  CHECK(LatencyHistogram::bucket_index(3'600'000'000) < 3400);  // an hour: ~26 KB of counts
}

TEST_CASE("quantile_rank is ceil(q*n) without rounding surprises") {
  CHECK(quantile_rank(0.07, 100) == 7);  // 0.07*100 = 7.000000000000001 in doubles
  CHECK(quantile_rank(0.5, 1) == 1);
  CHECK(quantile_rank(0, 10) == 1);
  CHECK(quantile_rank(1, 10) == 10);
  CHECK(quantile_rank(0.999, 1000) == 999);
  CHECK(quantile_rank(0.95, 10) == 10);  // 9.5 -> 10
  CHECK(quantile_rank(0.5, 3) == 2);
  for (uint64_t n = 1; n <= 2000; ++n) {
    for (uint64_t k = 0; k <= n; k += 1 + n / 50) {
      // q = k/n exactly in decimal terms must give rank k (at least 1).
      const double q = static_cast<double>(k) / static_cast<double>(n);
      REQUIRE(quantile_rank(q, n) == std::max<uint64_t>(k, 1));
    }
  }
}

TEST_CASE("latency histogram: quantiles agree with exact sorted samples within 1%") {
  Rng rng(42);
  for (int shape = 0; shape < 4; ++shape) {
    for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{10}, size_t{1000}, size_t{100'000}}) {
      std::vector<int64_t> values;
      LatencyHistogram h;
      for (size_t i = 0; i < n; ++i) {
        int64_t v = 0;
        switch (shape) {
          case 0:  // service-like: ~ exponential around 20 ms
            v = static_cast<int64_t>(rng.exponential(20'000));
            break;
          case 1:  // bimodal: fast cache hits and a slow tail
            v = rng.uniform01() < 0.9 ? rng.uniform_int(200, 900)
                                      : rng.uniform_int(1'000'000, 5'000'000);
            break;
          case 2:  // 1 us .. 1 h
            v = log_uniform(rng, 1, 3.6e9);
            break;
          default:  // many ties
            v = 1000 * rng.uniform_int(1, 5);
        }
        values.push_back(v);
        h.record(v);
      }
      std::sort(values.begin(), values.end());
      CAPTURE(shape);
      CAPTURE(n);
      for (double q : {0.0, 0.001, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
        CAPTURE(q);
        const double exact = static_cast<double>(values[quantile_rank(q, n) - 1]);
        const double got = h.quantile_us(q);
        CHECK(relative_error(got, exact) <= 0.01);
        CHECK(got >= static_cast<double>(values.front()));
        CHECK(got <= static_cast<double>(values.back()));
      }
      CHECK(h.quantile_us(0) == values.front());
      CHECK(h.quantile_us(1) == values.back());
      CHECK(h.count() == n);
      CHECK(h.min_us() == values.front());
      CHECK(h.max_us() == values.back());
      int64_t sum = 0;
      for (int64_t v : values) sum += v;
      CHECK(h.sum_us() == sum);
      CHECK(h.mean_us() == doctest::Approx(static_cast<double>(sum) / n));
    }
  }
}

TEST_CASE("latency histogram: merge is exact, empty behaves") {
  Rng rng(3);
  LatencyHistogram all, a, b;
  for (int i = 0; i < 50'000; ++i) {
    const int64_t v = log_uniform(rng, 1, 1e8);
    all.record(v);
    (i % 3 == 0 ? a : b).record(v);
  }
  LatencyHistogram merged = a;
  merged.merge(b);
  CHECK(merged == all);
  LatencyHistogram other_order = b;
  other_order.merge(a);
  CHECK(other_order.quantile_us(0.99) == all.quantile_us(0.99));
  CHECK(other_order.count() == all.count());

  LatencyHistogram empty;
  CHECK(std::isnan(empty.quantile_us(0.5)));
  CHECK(std::isnan(empty.mean_us()));
  CHECK(empty.count() == 0);
  LatencyHistogram copy = all;
  copy.merge(empty);
  CHECK(copy == all);
  empty.merge(all);
  CHECK(empty == all);

  LatencyHistogram negative;
  negative.record(-5);
  CHECK(negative.min_us() == 0);
  negative.record_n(10, 4);
  CHECK(negative.count() == 5);
  CHECK(negative.sum_us() == 40);
  CHECK(negative.quantile_us(0.5) == 10);

  LatencyHistogram huge;  // the sum saturates instead of wrapping
  huge.record(std::numeric_limits<int64_t>::max());
  huge.record_n(std::numeric_limits<int64_t>::max() / 2, 3);
  CHECK(huge.sum_us() == std::numeric_limits<int64_t>::max());
  CHECK(huge.max_us() == std::numeric_limits<int64_t>::max());
}

TEST_CASE("latency histogram: sparse counts round-trip and are checked") {
  LatencyHistogram h;
  for (int64_t v : {int64_t{5}, int64_t{5}, int64_t{900}, int64_t{123456}, int64_t{3600000000}})
    h.record(v);
  const auto sparse = h.sparse_counts();
  CHECK(sparse.size() == 4);
  CHECK(LatencyHistogram::from_sparse_counts(sparse, h.sum_us(), h.min_us(), h.max_us()) == h);
  CHECK_THROWS_AS(LatencyHistogram::from_sparse_counts(sparse, h.sum_us(), 900, h.max_us()),
                  std::invalid_argument);
  CHECK_THROWS_AS(
      LatencyHistogram::from_sparse_counts({{LatencyHistogram::kBucketCount, 1}}, 0, 0, 0),
      std::invalid_argument);
}
