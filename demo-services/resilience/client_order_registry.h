// The api's memory of `client_order_id`s, so that a client that sends POST /orders again with
// the same client_order_id (a retry after a timeout, a 5xx, a lost answer) gets the same order:
// one order id, at most one captured charge, one job on the queue.
//
// A client_order_id goes through these states:
//
//   absent --claim--> in progress: the caller owns the order (DB write, charge, enqueue)
//   in progress --finish(body)--> done: every later claim replays the stored 201 body
//   in progress --release(charged)--> open: the attempt failed; the next claim owns the same
//                                     order id again, and knows whether the charge was
//                                     captured already (then only the enqueue is left to do)
//   in progress --claim--> refused as "in progress" (the client should retry later)
//
// A claim with the same client_order_id but another request (user or amount) is a conflict.
//
// Invariants:
//  - A client_order_id maps to one order id for as long as it is remembered.
//  - At most one caller at a time owns a client_order_id (claim is atomic).
//  - At most `capacity` ids are kept; beyond that the oldest claimed is forgotten (whatever its
//    state: an owner that finishes a forgotten id changes nothing).
//  - Memory of this process only: a restarted api, or a second api instance, does not know the
//    ids another process saw.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace faultline::demo {

class ClientOrderRegistry {
 public:
  static constexpr size_t kDefaultCapacity = 100'000;

  struct Claim {
    enum class Kind {
      kOwner,       // the caller owns the order now and must finish() or release() it
      kDone,        // the order was created: replay `body`
      kInProgress,  // another request with this id is being handled now
      kConflict,    // the id was used for another request (fingerprint differs)
    };
    Kind kind = Kind::kOwner;
    std::string order_id;  // every kind but kConflict
    bool charged = false;  // kOwner: an earlier attempt captured the charge already
    std::string body;      // kDone: the 201 body given the first time
  };

  // REQUIRES: capacity >= 1.
  explicit ClientOrderRegistry(size_t capacity = kDefaultCapacity);

  // Claims `client_order_id` for a request with `fingerprint` (what the order is: user and
  // amount). When the id is new, `new_order_id` becomes its order id.
  Claim claim(const std::string& client_order_id, const std::string& fingerprint,
              const std::string& new_order_id);

  // The owner created the order: later claims replay `body`.
  void finish(const std::string& client_order_id, std::string body);

  // The owner's attempt failed; `charged`: the charge was captured (only the enqueue failed).
  void release(const std::string& client_order_id, bool charged);

  size_t size() const;

 private:
  enum class State { kInProgress, kOpen, kDone };
  struct Entry {
    std::string order_id;
    std::string fingerprint;
    State state = State::kInProgress;
    bool charged = false;
    std::string body;
  };

  size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::string> insertion_order_;  // oldest first
};

}  // namespace faultline::demo
