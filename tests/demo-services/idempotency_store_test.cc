// The idempotency store behind payment's --idempotency: first insert wins, capacity and ttl
// bound it, a key stored again after expiry is a fresh key.
#include "resilience/idempotency_store.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using faultline::demo::charge_fingerprint;
using faultline::demo::IdempotencyStore;
using faultline::demo::valid_idempotency_key;
using namespace std::chrono_literals;

namespace {

const IdempotencyStore::Clock::time_point t0{};

IdempotencyStore::Entry entry(const std::string& body) {
  return {"ord-1|12.5", body};
}

}  // namespace

TEST_CASE("idempotency store: the first insert of a key wins, later ones get it back") {
  IdempotencyStore store(10, 1min);
  CHECK_FALSE(store.find("k", t0).has_value());
  CHECK_FALSE(store.insert_if_absent("k", entry("first"), t0).has_value());
  auto again = store.insert_if_absent("k", entry("second"), t0 + 1s);
  REQUIRE(again.has_value());
  CHECK(again->body == "first");
  REQUIRE(store.find("k", t0 + 2s).has_value());
  CHECK(store.find("k", t0 + 2s)->body == "first");
  CHECK(store.size() == 1);
}

TEST_CASE("idempotency store: entries expire after the ttl, then the key is fresh") {
  IdempotencyStore store(10, 10s);
  store.insert_if_absent("a", entry("a1"), t0);
  store.insert_if_absent("b", entry("b1"), t0 + 5s);
  CHECK(store.find("a", t0 + 9s).has_value());
  CHECK_FALSE(store.find("a", t0 + 10s).has_value());
  CHECK(store.find("b", t0 + 10s).has_value());
  CHECK(store.size() == 1);
  // Stored again after expiry: a new entry, which the old one's expiry does not remove.
  CHECK_FALSE(store.insert_if_absent("a", entry("a2"), t0 + 11s).has_value());
  CHECK(store.find("a", t0 + 16s)->body == "a2");
  CHECK_FALSE(store.find("b", t0 + 16s).has_value());
  CHECK_FALSE(store.find("a", t0 + 21s).has_value());
  CHECK(store.size() == 0);
}

TEST_CASE("idempotency store: at most capacity keys, the oldest forgotten first") {
  IdempotencyStore store(3, 1h);
  for (int i = 0; i < 5; ++i)
    store.insert_if_absent("k" + std::to_string(i), entry(std::to_string(i)), t0 + i * 1s);
  CHECK(store.size() == 3);
  CHECK_FALSE(store.find("k0", t0 + 5s).has_value());
  CHECK_FALSE(store.find("k1", t0 + 5s).has_value());
  for (const char* k : {"k2", "k3", "k4"}) CHECK(store.find(k, t0 + 5s).has_value());
}

TEST_CASE("idempotency store: of concurrent inserts of one key exactly one is stored") {
  IdempotencyStore store(IdempotencyStore::kDefaultCapacity, 1min);
  std::atomic<int> stored{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 500; ++k)
        if (!store.insert_if_absent("key-" + std::to_string(k), entry(std::to_string(t)), t0))
          ++stored;
    });
  for (auto& t : threads) t.join();
  CHECK(stored.load() == 500);
  CHECK(store.size() == 500);
}

TEST_CASE("idempotency keys and fingerprints") {
  CHECK(valid_idempotency_key("ord-1a2b3c4d-17"));
  CHECK(valid_idempotency_key(std::string(255, 'k')));
  CHECK_FALSE(valid_idempotency_key(""));
  CHECK_FALSE(valid_idempotency_key(std::string(256, 'k')));
  CHECK_FALSE(valid_idempotency_key("has space"));
  CHECK(charge_fingerprint("o-1", 12.5) == charge_fingerprint("o-1", 12.5));
  CHECK(charge_fingerprint("o-1", 12.5) != charge_fingerprint("o-1", 12.51));
  CHECK(charge_fingerprint("o-1", 12.5) != charge_fingerprint("o-2", 12.5));
}
