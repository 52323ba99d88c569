#include "common/rng.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace faultline {

namespace {
constexpr uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}
}  // namespace

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t splitmix64_next(uint64_t* state) {
  *state += 0x9e3779b97f4a7c15ULL;
  return mix64(*state);
}

uint64_t fnv1a64(std::string_view bytes, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

Rng::Rng(uint64_t seed) : seed_(seed) {
  uint64_t sm = seed;
  for (auto& word : s_) word = splitmix64_next(&sm);
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

Rng Rng::derive(std::string_view stream_name) const {
  // Depends only on the original seed and the name, never on how far this Rng has advanced.
  return Rng(mix64(seed_ ^ fnv1a64(stream_name)));
}

uint64_t Rng::uniform_below(uint64_t bound) {
  if (bound == 0) throw std::invalid_argument("Rng::uniform_below: bound must be > 0");
  unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * bound;
  auto low = static_cast<uint64_t>(m);
  if (low < bound) {
    const uint64_t threshold = -bound % bound;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next_u64()) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

int64_t Rng::uniform_int(int64_t lo, int64_t hi) {
  if (lo > hi) throw std::invalid_argument("Rng::uniform_int: lo > hi");
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<int64_t>(next_u64());
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + uniform_below(span + 1));
}

double Rng::uniform01() {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

double Rng::exponential(double mean) {
  // 1 - u lies in (0, 1], so the log is finite.
  return -std::log1p(-uniform01()) * mean;
}

ZipfTable::ZipfTable(uint64_t n, double s) {
  if (n < 1 || n > kMaxN) throw std::invalid_argument("zipf: n must be in [1, 10000000]");
  if (!(s > 0)) throw std::invalid_argument("zipf: exponent must be > 0");
  cdf_.resize(n);
  double total = 0;
  for (uint64_t k = 1; k <= n; ++k) {
    total += 1.0 / std::pow(static_cast<double>(k), s);
    cdf_[k - 1] = total;
  }
  for (auto& c : cdf_) c /= total;
  cdf_.back() = 1.0;
}

uint64_t ZipfTable::sample(Rng& rng) const {
  const double u = rng.uniform01();
  auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  return static_cast<uint64_t>(it - cdf_.begin()) + 1;
}

namespace {

// log1p(x) / x and expm1(x) / x, continuous through x = 0 (where both are 1).
double log1p_over_x(double x) {
  if (std::fabs(x) > 1e-8) return std::log1p(x) / x;
  return 1 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

double expm1_over_x(double x) {
  if (std::fabs(x) > 1e-8) return std::expm1(x) / x;
  return 1 + x * 0.5 * (1 + x / 3.0 * (1 + 0.25 * x));
}

}  // namespace

ZipfSampler::ZipfSampler(uint64_t n, double s) : ZipfSampler(n, s, n <= ZipfTable::kMaxN) {}

ZipfSampler ZipfSampler::rejection_inversion(uint64_t n, double s) {
  return ZipfSampler(n, s, false);
}

ZipfSampler::ZipfSampler(uint64_t n, double s, bool use_table) : n_(n), s_(s) {
  if (n < 1) throw std::invalid_argument("zipf: n must be at least 1");
  if (!(s > 0) || !std::isfinite(s)) throw std::invalid_argument("zipf: exponent must be > 0");
  if (use_table) {
    table_ = std::make_unique<ZipfTable>(n, s);
    return;
  }
  h_integral_x1_ = h_integral(1.5) - 1;
  h_integral_n_ = h_integral(static_cast<double>(n) + 0.5);
  accept_below_ = 2 - h_integral_inverse(h_integral(2.5) - h(2));
}

double ZipfSampler::h(double x) const {
  return std::exp(-s_ * std::log(x));
}

double ZipfSampler::h_integral(double x) const {
  const double log_x = std::log(x);
  return expm1_over_x((1 - s_) * log_x) * log_x;
}

double ZipfSampler::h_integral_inverse(double y) const {
  double t = y * (1 - s_);
  if (t < -1) t = -1;  // rounding; the true value is >= -1
  return std::exp(log1p_over_x(t) * y);
}

uint64_t ZipfSampler::sample(Rng& rng) const {
  if (table_) return table_->sample(rng);
  // Invert the integral of the hat function h over [0.5, n + 0.5], round to the nearest rank,
  // and accept it when the point lies under the histogram of P(k) (up to a constant).
  while (true) {
    const double u = h_integral_n_ + rng.uniform01() * (h_integral_x1_ - h_integral_n_);
    const double x = h_integral_inverse(u);
    const double nearest = std::floor(x + 0.5);
    uint64_t k;
    if (nearest < 1) {
      k = 1;
    } else if (nearest >= static_cast<double>(n_)) {
      k = n_;
    } else {
      k = static_cast<uint64_t>(nearest);
    }
    const double kd = static_cast<double>(k);
    if (kd - x <= accept_below_ || u >= h_integral(kd + 0.5) - h(kd)) return k;
  }
}

}  // namespace faultline
