// Payment's memory of captured charges by idempotency key, so that a retried or hedged charge
// (same Idempotency-Key) is answered with the first charge instead of charging twice.
//
// Only captured charges are stored: a charge that failed had no effect, so a retry with the
// same key is a fresh attempt. An entry carries the request's fingerprint (order and amount),
// so a key reused for a different charge can be refused instead of silently replayed.
//
// Invariants:
//  - At most `capacity` keys are kept; inserting beyond that forgets the oldest.
//  - A key is forgotten `ttl` after it was stored; find() never returns an older entry.
//  - insert_if_absent is atomic: of two concurrent inserts for one key exactly one is stored,
//    and the other caller gets the stored entry back. That is what makes "at most one charge per
//    key" hold when a request and its hedge race to the commit.
//  - Time comes only from the `now` arguments (tests inject it).
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/units.h"

namespace faultline::demo {

class IdempotencyStore {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kDefaultCapacity = 100'000;

  struct Entry {
    std::string fingerprint;  // what the key was used for ("<order_id>|<amount>")
    std::string body;         // the answer given the first time
  };

  // REQUIRES: capacity >= 1, ttl > 0.
  IdempotencyStore(size_t capacity, Duration ttl);

  // The entry stored for `key`, unless there is none or it is older than the ttl.
  std::optional<Entry> find(const std::string& key, Clock::time_point now);

  // Stores `entry` for `key` unless a live entry is stored already. Returns nullopt when
  // `entry` was stored, else the entry that was there (and stays).
  std::optional<Entry> insert_if_absent(const std::string& key, Entry entry, Clock::time_point now);

  // Live keys (expired ones still counted until the next call that prunes).
  size_t size() const;

 private:
  struct Slot {
    Entry entry;
    Clock::time_point stored_at;
    uint64_t sequence;
  };
  struct Order {
    std::string key;
    uint64_t sequence;
  };
  // Drops expired entries and entries beyond capacity, oldest first. REQUIRES: mu_ held.
  void prune(Clock::time_point now);

  size_t capacity_;
  Duration ttl_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Slot> slots_;
  std::deque<Order> insertion_order_;  // oldest first; may name keys stored again since
  uint64_t next_sequence_ = 0;
};

// The fingerprint of a charge request, for IdempotencyStore::Entry.
std::string charge_fingerprint(const std::string& order_id, double amount);

// True when `key` is acceptable as an Idempotency-Key: 1..255 printable ASCII characters, no
// space.
bool valid_idempotency_key(const std::string& key);

}  // namespace faultline::demo
