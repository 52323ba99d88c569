// ArrivalSource: feeds the plan's ArrivalStream to the load engine as PlannedRequests aimed
// at the target's base URL, with the plan's X-Request-Id and W3C traceparent.
//
// Partitions: with `partitions` > 1 (one per load-engine loop thread) the stream is shared out
// by sequence number: partition k hands out the arrivals whose (seq / shard_count) % partitions
// == k, whatever the timing, so which loop sends an arrival is part of nothing but the seq.
// The stream itself is generated once, in seq order, under a lock, by whichever partition needs
// its next arrival; the others' arrivals wait in their partition's queue (a few per partition
// while the loops keep up).
//
// It also hashes the schedule as it is generated (sha256 over each arrival's canonical JSON and
// a newline, in seq order), so a run and its replay can prove they sent the same sequence; the
// hash does not depend on the number of partitions. (A run stopped early may have generated a
// few arrivals more than it handed out, waiting in another partition's queue; they are hashed.)
//
// Thread-safety: partition k's next() runs on loop k's thread; partitions may run at the same
// time. The other accessors may be called once the engine has finished.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "plan/arrival_stream.h"
#include "run/load_engine.h"

namespace faultline {

class ArrivalSource {
 public:
  // `base_url` has no trailing slash. With `shard_count` > 1 only the arrivals whose seq %
  // shard_count == shard_index are handed out (faultline run --shard); the others are generated and
  // skipped, so every shard's arrivals keep their seq, intended time and ids.
  ArrivalSource(const Plan& plan, std::string base_url, uint32_t shard_index = 0,
                uint32_t shard_count = 1, uint32_t partitions = 1);
  ~ArrivalSource();
  ArrivalSource(const ArrivalSource&) = delete;
  ArrivalSource& operator=(const ArrivalSource&) = delete;

  // One RequestSource per partition, for LoadEngine::start.
  std::vector<RequestSource*> partitions();

  uint64_t handed_out() const;
  // The schedule checksum; call once, after the engine finished.
  std::string schedule_sha256();

  // Route and phase of a seq, for samples (which carry only seq and route index).
  const Plan& plan() const { return plan_; }

 private:
  class Partition;
  // Generates arrivals until partition k has one queued; false at the end of the stream.
  bool fill(uint32_t k);

  const Plan& plan_;
  const std::string base_url_;
  const uint32_t shard_index_;
  const uint32_t shard_count_;

  mutable std::mutex mutex_;  // guards everything below
  ArrivalStream stream_;
  Sha256 schedule_hash_;
  uint64_t handed_out_ = 0;
  std::vector<std::deque<Arrival>> queued_;  // by partition
  std::vector<std::unique_ptr<Partition>> partitions_;
};

}  // namespace faultline
