// Toxic values without sockets: names, validation, and the deterministic targeting of
// toxicity (the algorithm documented in faults/toxic.h, pinned here).
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include "common/rng.h"
#include "faults/toxic.h"

namespace faultline {
namespace {

std::set<uint64_t> hit_ordinals(uint64_t seed, const std::string& name, double toxicity,
                                uint64_t n) {
  std::set<uint64_t> hits;
  for (uint64_t i = 0; i < n; ++i) {
    if (toxic_hits(seed, name, i, toxicity)) hits.insert(i);
  }
  return hits;
}

TEST_CASE("toxic types and directions round-trip through their names") {
  for (auto type :
       {ToxicType::kLatency, ToxicType::kBandwidth, ToxicType::kTimeout, ToxicType::kResetPeer,
        ToxicType::kSlowClose, ToxicType::kSlicer, ToxicType::kLimitData, ToxicType::kDown}) {
    CHECK(parse_toxic_type(toxic_type_name(type)) == type);
  }
  CHECK(toxic_type_name(ToxicType::kResetPeer) == "reset_peer");
  CHECK_FALSE(parse_toxic_type("blackhole").has_value());
  CHECK(parse_toxic_direction("upstream") == ToxicDirection::kUpstream);
  CHECK(parse_toxic_direction("downstream") == ToxicDirection::kDownstream);
  CHECK_FALSE(parse_toxic_direction("both").has_value());
}

TEST_CASE("toxic_fraction is the documented hash of seed, name and ordinal") {
  // h = mix64(seed XOR fnv1a64(name + "\n" + decimal(n))), u = (h >> 11) * 2^-53
  for (uint64_t seed : {0ULL, 42ULL, 0xdeadbeefULL}) {
    for (uint64_t n : {0ULL, 1ULL, 199ULL}) {
      const uint64_t h = mix64(seed ^ fnv1a64("slow\n" + std::to_string(n)));
      CHECK(toxic_fraction(seed, "slow", n) == static_cast<double>(h >> 11) * 0x1.0p-53);
    }
  }
  // Pinned values, computed by an independent Python transcription of the formula above: a
  // change of the algorithm changes which connections a recorded run hit.
  CHECK(toxic_fraction(42, "slow", 0) == doctest::Approx(0.101225105349).epsilon(1e-11).scale(0));
  CHECK(toxic_fraction(42, "slow", 1) == doctest::Approx(0.678944614049).epsilon(1e-11).scale(0));
  CHECK(toxic_fraction(7, "reset", 5) == doctest::Approx(0.300319324397).epsilon(1e-11).scale(0));
  CHECK(toxic_stream_seed(42, "slow", 0) == mix64(42 ^ fnv1a64(std::string("draws\nslow\n0"))));
}

TEST_CASE("toxicity 0 hits nothing, 1 hits everything, and raising it only adds connections") {
  CHECK(hit_ordinals(9, "t", 0.0, 500).empty());
  CHECK(hit_ordinals(9, "t", 1.0, 500).size() == 500);
  const auto low = hit_ordinals(9, "t", 0.2, 500);
  const auto high = hit_ordinals(9, "t", 0.5, 500);
  for (uint64_t i : low) CHECK(high.count(i) == 1);
  CHECK(high.size() > low.size());
}

TEST_CASE("toxicity 0.3 over 200 connections hits about 60 and depends on the seed and name") {
  // Each hit is an independent Bernoulli(0.3) if the hash behaves like a random function:
  // the count is Binomial(200, 0.3), mean 60, sd sqrt(200 * 0.3 * 0.7) = 6.48. A seed whose
  // count falls outside 60 +/- 4 sd = [34, 86] has probability below 1e-4 per seed.
  double total = 0;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    const size_t n = hit_ordinals(seed, "flaky", 0.3, 200).size();
    CHECK(n >= 34);
    CHECK(n <= 86);
    total += static_cast<double>(n);
  }
  // The mean of 50 seeds: sd 6.48 / sqrt(50) = 0.92, so 60 +/- 3.5 is 3.8 sd.
  CHECK(std::abs(total / 50 - 60) < 3.5);
  CHECK(hit_ordinals(1, "flaky", 0.3, 200) == hit_ordinals(1, "flaky", 0.3, 200));
  CHECK(hit_ordinals(1, "flaky", 0.3, 200) != hit_ordinals(2, "flaky", 0.3, 200));
  CHECK(hit_ordinals(1, "flaky", 0.3, 200) != hit_ordinals(1, "other", 0.3, 200));
}

TEST_CASE("toxic_problem accepts each type with its own attributes") {
  Toxic t{.name = "lat", .type = ToxicType::kLatency, .latency_ms = 100, .jitter_ms = 10};
  CHECK_FALSE(toxic_problem(t).has_value());
  CHECK_FALSE(toxic_problem(Toxic{.name = "bw", .type = ToxicType::kBandwidth, .rate_kb_per_s = 5})
                  .has_value());
  CHECK_FALSE(toxic_problem(Toxic{.name = "hole", .type = ToxicType::kTimeout}).has_value());
  CHECK_FALSE(toxic_problem(Toxic{.name = "rst", .type = ToxicType::kResetPeer}).has_value());
  CHECK_FALSE(
      toxic_problem(Toxic{.name = "sc", .type = ToxicType::kSlowClose, .delay_ms = 5}).has_value());
  CHECK_FALSE(toxic_problem(Toxic{.name = "sl",
                                  .type = ToxicType::kSlicer,
                                  .average_size = 10,
                                  .size_variation = 9,
                                  .delay_us = 100})
                  .has_value());
  CHECK_FALSE(toxic_problem(Toxic{.name = "ld", .type = ToxicType::kLimitData}).has_value());
  CHECK_FALSE(toxic_problem(Toxic{.name = "off", .type = ToxicType::kDown}).has_value());
}

TEST_CASE("toxic_problem names what is wrong") {
  auto problem = [](const Toxic& t) { return toxic_problem(t).value_or(""); };
  CHECK(problem(Toxic{.name = ""}).find("name") != std::string::npos);
  CHECK(problem(Toxic{.name = "a b", .latency_ms = 1}).find("letters") != std::string::npos);
  CHECK(problem(Toxic{.name = "x", .toxicity = 1.5}).find("toxicity") != std::string::npos);
  CHECK(problem(Toxic{.name = "x", .toxicity = std::nan("")}).find("toxicity") !=
        std::string::npos);
  CHECK(problem(Toxic{.name = "x", .latency_ms = 50, .jitter_ms = 80}) ==
        "toxic 'x' (latency): jitter_ms (80) is larger than latency_ms (50)");
  CHECK(problem(Toxic{.name = "x", .latency_ms = 5, .bytes = 3}) ==
        "toxic 'x' (latency): bytes does not apply to this type");
  CHECK(problem(Toxic{.name = "x", .latency_ms = -1}).find("negative") != std::string::npos);
  CHECK(problem(Toxic{.name = "x", .type = ToxicType::kBandwidth}).find("rate_kb_per_s") !=
        std::string::npos);
  CHECK(problem(
            Toxic{.name = "x", .type = ToxicType::kSlicer, .average_size = 4, .size_variation = 4})
            .find("size_variation") != std::string::npos);
  CHECK(problem(Toxic{.name = "x", .type = ToxicType::kDown, .toxicity = 0.5})
            .find("toxicity must be 1") != std::string::npos);
  CHECK(problem(Toxic{.name = "x", .type = ToxicType::kTimeout, .timeout_ms = 4'000'000})
            .find("one hour") != std::string::npos);
}

}  // namespace
}  // namespace faultline
