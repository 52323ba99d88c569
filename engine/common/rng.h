// The project's one source of randomness: splitmix64 seeding xoshiro256**, with distribution
// code of our own. std::*_distribution is implementation-defined (libstdc++ and libc++ differ),
// so it is never used; every draw here is specified bit for bit and pinned by golden tests.
//
// Thread-safety: an Rng is a value; share none, derive one per stream with Rng::derive().
#pragma once

#include <cstdint>
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
// precomputed CDF with binary search: exact and simple. REQUIRES: 1 <= n <= 10'000'000, s > 0.
class ZipfTable {
 public:
  ZipfTable(uint64_t n, double s);
  uint64_t sample(Rng& rng) const;  // in [1, n]
  uint64_t n() const { return cdf_.size(); }

 private:
  std::vector<double> cdf_;
};

}  // namespace faultline
