// ArrivalSource: feeds the plan's ArrivalStream to the load engine as PlannedRequests aimed
// at the target's base URL, with the plan's X-Request-Id and W3C traceparent.
//
// It also hashes the schedule as it is handed out (sha256 over each arrival's canonical JSON
// and a newline), so a run and its replay can prove they sent the same sequence.
//
// Thread-safety: next() runs on the load engine's loop thread; the other accessors may be
// called once the engine has finished.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "plan/arrival_stream.h"
#include "run/load_engine.h"

namespace faultline {

class ArrivalSource : public RequestSource {
 public:
  // `on_arrival`, if set, sees each arrival before it is handed out (the runner records the
  // schedule in the bundle with it). `base_url` has no trailing slash.
  // With `shard_count` > 1 only the arrivals whose seq % shard_count == shard_index are
  // handed out (faultline run --shard); the others are generated and skipped, so every
  // shard's arrivals keep their seq, intended time and ids.
  ArrivalSource(const Plan& plan, std::string base_url,
                std::function<void(const Arrival&)> on_arrival = nullptr, uint32_t shard_index = 0,
                uint32_t shard_count = 1);

  bool next(PlannedRequest& out) override;

  uint64_t handed_out() const { return count_; }
  // The schedule checksum; call once, after the engine finished.
  std::string schedule_sha256();

  // Route and phase of a seq, for samples (which carry only seq and route index).
  const Plan& plan() const { return plan_; }

 private:
  const Plan& plan_;
  ArrivalStream stream_;
  std::string base_url_;
  std::function<void(const Arrival&)> on_arrival_;
  Sha256 schedule_hash_;
  uint64_t count_ = 0;
  uint32_t shard_index_ = 0;
  uint32_t shard_count_ = 1;
};

}  // namespace faultline
