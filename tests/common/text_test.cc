#include "common/text.h"
#include "common/rng.h"
#include "common/sha256.h"
#include "common/targeting.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>

TEST_CASE("edit distance and did-you-mean") {
  CHECK(faultline::edit_distance("kitten", "sitting") == 3);
  CHECK(faultline::edit_distance("", "abc") == 3);
  const std::vector<std::string> keys{"duration", "rate", "ramp", "faults"};
  CHECK(faultline::closest_match("duraton", keys) == "duration");
  CHECK(faultline::closest_match("fault", keys) == "faults");
  CHECK_FALSE(faultline::closest_match("zzzzzz", keys).has_value());
}

TEST_CASE("sha256 of known inputs") {
  CHECK(faultline::sha256_hex("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(faultline::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  faultline::Sha256 h;
  h.update("a");
  h.update("bc");
  CHECK(h.hex_digest() == faultline::sha256_hex("abc"));
}

TEST_CASE("targeting hash: documented golden values") {
  // These values are published in docs/fault-contract.md; other implementations check
  // themselves against them. Changing the algorithm breaks every recorded run.
  CHECK(faultline::fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(faultline::fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(faultline::mix64(0) == 0);
  CHECK(faultline::fnv1a64("payment_fail_rate\nt-0") == 0x28d14f5cee3ec4b6ULL);
  CHECK(faultline::mix64(0x28d14f5cee3ec4b6ULL) == 0xca4ee1899d41b3bbULL);
  CHECK(faultline::targeting_fraction("payment_fail_rate", "t-0") ==
        doctest::Approx(0.79026612863277168).epsilon(1e-15).scale(0));
  CHECK(faultline::targeting_fraction("payment_fail_rate", "t-1") ==
        doctest::Approx(0.83642643607026956).epsilon(1e-15).scale(0));
  CHECK(faultline::targeting_fraction("db_latency_tail_pct", "req-42") ==
        doctest::Approx(0.81870034265085401).epsilon(1e-15).scale(0));
}

TEST_CASE("targeting hash hits about the requested fraction, deterministically") {
  int hits = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string id = "t-" + std::to_string(i);
    const bool hit = faultline::targeting_hit("payment_fail_rate", id, 0.2);
    CHECK(hit == faultline::targeting_hit("payment_fail_rate", id, 0.2));
    hits += hit;
  }
  CHECK(hits > 1850);
  CHECK(hits < 2150);
  // A different knob name selects a different (independent) set of requests.
  int both = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string id = "t-" + std::to_string(i);
    both += faultline::targeting_hit("payment_fail_rate", id, 0.5) &&
            faultline::targeting_hit("payment_latency_pct", id, 0.5);
  }
  CHECK(both > 2300);
  CHECK(both < 2700);
  CHECK_FALSE(faultline::targeting_hit("k", "x", 0.0));
  CHECK(faultline::targeting_hit("k", "x", 1.0));
}
