// A stand-in database for the api and payment roles. Each call costs the configured base
// latency plus what the fault knobs add, and may fail:
//   db_latency_ms_add  added to the calls selected by db_latency_tail_pct (default 100 = all)
//   db_fail_rate       fraction of calls that fail
// Selection is deterministic per request: targeting_hit(<knob>, request_id, fraction), with the
// knob names "db_latency_tail_pct" and "db_fail_rate" (docs/fault-contract.md).
//
// A call may carry the caller's deadline (deadline propagation): a call that would end after it
// waits only until the deadline and reports kDeadlineExceeded, as a query cancelled by its
// context would, so no thread is held for latency nobody waits for.
//
// It also keeps a bounded key-value store (the newest kMaxRows rows), so reads of what was
// written work without letting a long run grow memory without bound.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/units.h"
#include "core/stop_signal.h"
#include "faults/fault_knobs.h"
#include "metrics/service_metrics.h"

namespace faultline::demo {

enum class DbOutcome { kOk, kFailed, kInterrupted, kDeadlineExceeded };

class SimulatedDb {
 public:
  static constexpr size_t kMaxRows = 100'000;

  SimulatedDb(Duration base_latency, FaultState& faults, ServiceMetrics& metrics,
              const StopSignal& stop);

  // One simulated call on behalf of `request_id`: waits, then succeeds or fails. kInterrupted
  // when a shutdown cut the wait short; kDeadlineExceeded when `deadline` came first (then the
  // wait ended at the deadline). Recorded as dep_call_duration_seconds{dependency="db"} with
  // outcome ok, error, or timeout (deadline).
  DbOutcome call(std::string_view request_id,
                 std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

  void put(const std::string& key, std::string value);
  std::optional<std::string> get(const std::string& key) const;

 private:
  Duration base_latency_;
  FaultState& faults_;
  ServiceMetrics& metrics_;
  const StopSignal& stop_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::string> rows_;
  std::deque<std::string> insertion_order_;
};

}  // namespace faultline::demo
