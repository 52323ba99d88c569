// The project's one source of randomness: splitmix64 seeding xoshiro256**, with distribution
// code of our own. std::*_distribution is implementation-defined (libstdc++ and libc++ differ),
// so it is never used; every draw here is specified bit for bit and pinned by golden tests.
//
// Thread-safety: an Rng is a value; share none, derive one per stream with Rng::derive().
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace faultline {

// splitmix64 step: advances *state and returns the next output. Also the seeding function.
uint64_t splitmix64_next(uint64_t* state);

// The splitmix64 finalizer alone: a strong 64-bit bit mixer (bijective).
uint64_t mix64(uint64_t x);

// FNV-1a over bytes, 64-bit. Stable, documented, used to turn names into stream ids.
uint64_t fnv1a64(std::string_view bytes, uint64_t seed = 0xcbf29ce484222325ULL);

class Rng {
 public:
  explicit Rng(uint64_t seed);

  // xoshiro256** next output.
  uint64_t next_u64();

  // An independent stream for a named purpose ("arrivals", "route:orders/user_id"), so adding
  // a consumer of one stream never shifts the draws of another.
  Rng derive(std::string_view stream_name) const;

  // Uniform in [0, bound) without modulo bias (Lemire's multiply-shift with rejection).
  // REQUIRES: bound > 0.
  uint64_t uniform_below(uint64_t bound);

  // Uniform integer in [lo, hi] inclusive. REQUIRES: lo <= hi.
  int64_t uniform_int(int64_t lo, int64_t hi);

  // Uniform double in [0, 1) with 53 random bits.
  double uniform01();

  // Exponential with the given mean (inverse transform on uniform01).
  double exponential(double mean);

 private:
  uint64_t s_[4];
  uint64_t seed_;
};

// Zipf over ranks 1..n with exponent s (P(k) proportional to 1/k^s), sampled by inverting a
// precomputed CDF with binary search: exact and simple, but n doubles of memory.
// REQUIRES: 1 <= n <= kMaxN, s > 0.
class ZipfTable {
 public:
  static constexpr uint64_t kMaxN = 10'000'000;
  ZipfTable(uint64_t n, double s);
  uint64_t sample(Rng& rng) const;  // in [1, n]
  uint64_t n() const { return cdf_.size(); }

 private:
  std::vector<double> cdf_;
};

// The zipf(n, s) generator of route variables, for any n >= 1 in bounded memory and time.
//   n <= ZipfTable::kMaxN: a ZipfTable (one uniform01 per draw). Plans have always drawn these
//     values this way; keeping it keeps their requests, bit for bit.
//   larger n: rejection-inversion (Hoermann and Derflinger, "Rejection-inversion to generate
//     variates from monotone discrete distributions", 1996): O(1) memory and O(1) expected
//     time, little more than one uniform01 draw per sample (1.00 to 1.02 measured for n up to
//     2^63 and s from 0.5 to 2). Exact in distribution; ranks above 2^53 are as fine as a
//     double resolves them.
// REQUIRES: n >= 1, s > 0 and finite.
class ZipfSampler {
 public:
  ZipfSampler(uint64_t n, double s);
  // Rejection-inversion whatever n is (tests compare it with the exact table at small n).
  static ZipfSampler rejection_inversion(uint64_t n, double s);

  uint64_t sample(Rng& rng) const;  // in [1, n]
  uint64_t n() const { return n_; }

 private:
  ZipfSampler(uint64_t n, double s, bool use_table);
  double h(double x) const;           // x^-s
  double h_integral(double x) const;  // (x^(1-s) - 1) / (1-s); log x at s = 1
  double h_integral_inverse(double y) const;

  uint64_t n_;
  double s_;
  std::unique_ptr<ZipfTable> table_;  // set for n <= ZipfTable::kMaxN
  double h_integral_x1_ = 0;          // h_integral(1.5) - 1
  double h_integral_n_ = 0;           // h_integral(n + 0.5)
  double accept_below_ = 0;           // k - x at or below it is accepted without the test
};

}  // namespace faultline
