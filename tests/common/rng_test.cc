#include "common/rng.h"

#include <doctest/doctest.h>

#include <cmath>
#include <set>

using faultline::Rng;

// Golden values pin the generator bit for bit: a change here changes every plan hash.
TEST_CASE("splitmix64 matches the reference sequence for seed 0") {
  uint64_t state = 0;
  CHECK(faultline::splitmix64_next(&state) == 0xe220a8397b1dcdafULL);
  CHECK(faultline::splitmix64_next(&state) == 0x6e789e6aa1b965f4ULL);
  CHECK(faultline::splitmix64_next(&state) == 0x06c45d188009454fULL);
}

TEST_CASE("xoshiro256** seeded by splitmix64 gives pinned outputs") {
  Rng golden(42);
  CHECK(golden.next_u64() == 0x15780b2e0c2ec716ULL);
  CHECK(golden.next_u64() == 0x6104d9866d113a7eULL);
  CHECK(golden.next_u64() == 0xae17533239e499a1ULL);
  CHECK(Rng(0).next_u64() == 0x99ec5f36cb75f2b4ULL);
  Rng a(42);
  const uint64_t first = a.next_u64();
  const uint64_t second = a.next_u64();
  Rng b(42);
  CHECK(b.next_u64() == first);
  CHECK(b.next_u64() == second);
  Rng c(43);
  CHECK(c.next_u64() != first);
}

TEST_CASE("derive depends on the seed and the name only") {
  Rng a(7);
  Rng fresh(7);
  a.next_u64();
  a.next_u64();
  CHECK(a.derive("arrivals").next_u64() == fresh.derive("arrivals").next_u64());
  CHECK(fresh.derive("arrivals").next_u64() != fresh.derive("routes").next_u64());
}

TEST_CASE("uniform_below stays in range and covers it") {
  Rng r(1);
  std::set<uint64_t> seen;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = r.uniform_below(7);
    REQUIRE(v < 7);
    seen.insert(v);
  }
  CHECK(seen.size() == 7);
  CHECK_THROWS(r.uniform_below(0));
}

TEST_CASE("uniform_int is inclusive") {
  Rng r(2);
  bool lo = false, hi = false;
  for (int i = 0; i < 5000; ++i) {
    const int64_t v = r.uniform_int(-3, 3);
    REQUIRE(v >= -3);
    REQUIRE(v <= 3);
    lo |= v == -3;
    hi |= v == 3;
  }
  CHECK(lo);
  CHECK(hi);
}

TEST_CASE("uniform01 and exponential have the expected moments") {
  Rng r(3);
  const int n = 200000;
  double sum = 0, sum_exp = 0, sum_exp2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform01();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    sum += u;
    const double e = r.exponential(2.0);
    sum_exp += e;
    sum_exp2 += e * e;
  }
  CHECK(sum / n == doctest::Approx(0.5).epsilon(0.01).scale(0));
  const double mean = sum_exp / n;
  CHECK(mean == doctest::Approx(2.0).epsilon(0.02).scale(0));
  // Variance of an exponential is mean^2.
  CHECK(sum_exp2 / n - mean * mean == doctest::Approx(4.0).epsilon(0.05).scale(0));
}

TEST_CASE("zipf puts rank 1 first with the right share") {
  faultline::ZipfTable z(100, 1.0);
  Rng r(4);
  double harmonic = 0;
  for (int k = 1; k <= 100; ++k) harmonic += 1.0 / k;
  int ones = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const uint64_t v = z.sample(r);
    REQUIRE(v >= 1);
    REQUIRE(v <= 100);
    ones += v == 1;
  }
  CHECK(static_cast<double>(ones) / n == doctest::Approx(1.0 / harmonic).epsilon(0.03).scale(0));
  CHECK_THROWS(faultline::ZipfTable(0, 1.0));
}
