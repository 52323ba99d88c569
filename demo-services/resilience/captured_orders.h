// Payment's record of the orders it captured a charge for, in capture order, each order id once,
// for GET /charges/captured: a chaos check (broker-down) compares it with the worker's applied
// effects to find orders that were charged but never processed.
//
// Invariants:
//  - Each order id appears at most once; a second capture for a known order id (a charge
//    without an Idempotency-Key, retried) changes nothing, so the list is a set in first-capture
//    order.
//  - At most `capacity` ids are kept; recording beyond that forgets the oldest (an id forgotten
//    that way and captured again is recorded again, as new).
//  - Memory of this process only: a restarted payment starts empty.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace faultline::demo {

class CapturedOrders {
 public:
  // About 100 bytes per id (a list entry and a set entry), so the default bound is ~100 MB at
  // worst: far beyond what a scenario captures, small enough for a test machine.
  static constexpr size_t kDefaultCapacity = 1'000'000;

  // REQUIRES: capacity >= 1.
  explicit CapturedOrders(size_t capacity = kDefaultCapacity);

  // Records a captured charge of `order_id`. Returns true when the id was new.
  bool record(const std::string& order_id);

  // The ids, oldest first.
  std::vector<std::string> ids() const;

  size_t size() const;

 private:
  size_t capacity_;
  mutable std::mutex mu_;
  // std::deque keeps its elements in place on push_back and pop_front, so the views in
  // `known_` stay valid as long as their id is in `order_`.
  std::deque<std::string> order_;               // oldest first
  std::unordered_set<std::string_view> known_;  // views of the strings in order_
};

}  // namespace faultline::demo
