// The order job queue in Redis, shared by the api (producer) and the worker (consumer), with
// the reliability rules of the fault contract:
//
//   orders:queue                 LIST  jobs waiting; producers LPUSH, consumers take from the right
//   orders:processing:<worker>   LIST  jobs a worker process has taken and not yet acknowledged
//   orders:dlq                   LIST  jobs that failed their last allowed attempt (newest left)
//   orders:done:<order_id>       STRING "1" once the order's effect happened (idempotency mark)
//   orders:effects               STRING counter of effects; equals the number of distinct orders
//                                processed when processing is exactly-once
//   orders:applied               LIST  the order id of every effect, in the order applied (RPUSH:
//                                oldest first); duplicates appear only when dedup was skipped
//
// A job moves queue -> processing atomically (BLMOVE), so a crash never loses it; on start a
// worker moves what its processing list holds back to the queue. The effect (counter and
// applied list), the idempotency mark and the acknowledgement (LREM) happen in one Lua script, so
// a job runs its effect at most once however often it is delivered - unless the caller asks to
// skip deduplication (the worker_skip_dedup fault knob), which applies duplicates too. Retry and
// dead-letter moves are scripts too, and only act if the job is still in the processing list, so
// repeating one after a lost reply is harmless.
//
// Thread-safety: an OrderQueue uses one RedisConnection; one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/units.h"
#include "queue/redis_connection.h"

namespace faultline::demo {

namespace order_keys {
inline constexpr std::string_view kQueue = "orders:queue";
inline constexpr std::string_view kDeadLetters = "orders:dlq";
inline constexpr std::string_view kEffects = "orders:effects";
inline constexpr std::string_view kApplied = "orders:applied";
std::string processing(std::string_view worker_id);
std::string done(std::string_view order_id);
}  // namespace order_keys

// A job as JSON: {"order_id","request_id","user_id","amount","attempt","enqueued_at_ms"
// [,"last_error"][,"traceparent"]}. attempt counts from 0; enqueued_at_ms is Unix time of the first
// enqueue.
struct Job {
  std::string order_id;
  std::string request_id;
  std::string user_id;
  double amount = 0;
  int attempt = 0;
  int64_t enqueued_at_ms = 0;
  std::string last_error;
  std::string traceparent;  // the order request's W3C traceparent, "" when it had none
};

std::string encode_job(const Job& job);

// Unix time in milliseconds, the clock of enqueued_at_ms (shared by api and worker processes).
int64_t unix_time_ms();
// nullopt when `raw` is not a job (bad JSON, missing order_id).
std::optional<Job> decode_job(std::string_view raw);

class OrderQueue {
 public:
  explicit OrderQueue(RedisConnection& conn) : conn_(conn) {}

  void enqueue(const Job& job);

  // Takes the oldest job into this worker's processing list, waiting up to `block`.
  // Returns the raw job text, or nullopt when the queue stayed empty.
  std::optional<std::string> take(std::string_view worker_id, Duration block);

  enum class Completion {
    kApplied,              // first effect of this order
    kDuplicateSuppressed,  // the order had been done before: no second effect
    kDuplicateApplied,     // done before, applied again because dedup was skipped
    kAlreadyAcknowledged,  // `raw` was no longer in the processing list (a repeat after a lost
                           // reply): nothing done
  };
  // Effect + idempotency mark + acknowledgement, atomically, only while `raw` is in the
  // processing list. The effect is INCR orders:effects and RPUSH orders:applied <order_id>.
  // skip_dedup: apply the effect even when the order was done before.
  Completion complete(std::string_view worker_id, const std::string& raw, std::string_view order_id,
                      bool skip_dedup = false);

  // Every order id in orders:applied, oldest first.
  std::vector<std::string> applied_effects();

  // Acknowledges `raw` and pushes `next` to the back of the queue (a retry).
  bool retry(std::string_view worker_id, const std::string& raw, const std::string& next);
  // Acknowledges `raw` and pushes `next` to the dead-letter list.
  bool dead_letter(std::string_view worker_id, const std::string& raw, const std::string& next);
  // Puts `raw` back at the front of the queue (shutdown in the middle of a job).
  bool give_back(std::string_view worker_id, const std::string& raw);

  // Moves everything in this worker's processing list back to the front of the queue, oldest
  // first in line. Returns how many jobs moved.
  int recover(std::string_view worker_id);

  struct Depths {
    long long queue = 0;
    long long processing = 0;
    long long dead_letters = 0;
  };
  Depths depths(std::string_view worker_id);

 private:
  bool move(std::string_view worker_id, const std::string& raw, std::string_view target,
            const std::string& next, bool front);

  RedisConnection& conn_;
};

}  // namespace faultline::demo
