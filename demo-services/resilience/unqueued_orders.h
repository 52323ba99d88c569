// The api's list of orders that are paid but not queued: payment captured the charge, then the
// enqueue failed (Redis down, or the enqueue_fail_rate knob). The reconciler
// (--reconcile-interval) enqueues them later, so a charged order still gets its job.
//
// An order enters when its enqueue fails and leaves when a later enqueue of it succeeds, by
// the reconciler or by a client retry of its client_order_id. This list does not decide who
// enqueues: for an order with a client_order_id, the ClientOrderRegistry's claim does (one
// owner at a time), and an order without one has no other path than the reconciler's single
// thread. So an order is enqueued at most once.
//
// Invariants:
//  - At most one entry per order id; add() of a known id replaces its job.
//  - At most `capacity` entries; adding beyond that forgets the oldest (that order is then
//    not reconciled: the api logs it).
//  - Memory of this process only: a restarted api does not know the orders it left unqueued.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "queue/order_queue.h"

namespace faultline::demo {

class UnqueuedOrders {
 public:
  static constexpr size_t kDefaultCapacity = 100'000;

  struct Entry {
    Job job;                      // what to enqueue (job.order_id is the key)
    std::string client_order_id;  // "" when the order has none
  };

  // REQUIRES: capacity >= 1.
  explicit UnqueuedOrders(size_t capacity = kDefaultCapacity);

  // Remembers `entry` as paid but not queued. Returns the order id it forgot to make room, if
  // any.
  std::optional<std::string> add(Entry entry);

  // The order was queued.
  void remove(const std::string& order_id);

  // Every entry, oldest first.
  std::vector<Entry> snapshot() const;

  size_t size() const;

 private:
  struct Slot {
    Entry entry;
    uint64_t sequence;
  };
  struct Order {
    std::string order_id;
    uint64_t sequence;
  };
  // Drops insertion records of ids removed or re-added since. REQUIRES: mu_ held.
  void drop_stale_front();

  size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Slot> slots_;
  std::deque<Order> insertion_order_;  // oldest first; may name ids removed or re-added since
  uint64_t next_sequence_ = 0;
};

}  // namespace faultline::demo
