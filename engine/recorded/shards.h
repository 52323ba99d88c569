// Shards of one load: `faultline run --shard i/N` sends the arrivals of a plan whose seq % N
// == i; `faultline merge` puts the N shards' bundles back together into the bundle a single
// run of the plan would have written, so it is judged exactly as one run is.
//
// A shard's bundle holds shard.json ({"shard": i, "of": N, "plan_hash": ...}) beside its
// plan.json (the plan itself, and its hash, are the same in every shard). Shard 0 alone
// applies faults, scrapes and runs hooks, so a merged bundle takes scrapes, snapshots and
// hooks from shard 0 and the union of every shard's samples. A merged bundle holds
// merged.json naming its shards.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "recorded/bundle.h"
#include "recorded/recorded_run.h"

namespace faultline {

inline constexpr uint32_t kMaxShards = 1024;

struct ShardInfo {
  uint32_t index = 0;
  uint32_t count = 1;
  std::string plan_hash;
};

// "i/N" -> ShardInfo (without the hash), or nullopt when it is not 0 <= i < N <= kMaxShards.
std::optional<ShardInfo> parse_shard(const std::string& text);

// Writes <bundle>/shard.json atomically. Throws EnvironmentError when it cannot.
void write_shard_info(const BundleLayout& bundle, const ShardInfo& shard);
// The shard a bundle says it is; nullopt (with *why) when it has no or a damaged shard.json.
std::optional<ShardInfo> read_shard_info(const BundleLayout& bundle, std::string* why);

// What merge_shards wrote and read.
struct MergedShards {
  uint32_t count = 0;
  uint64_t samples = 0;              // records in the merged samples.csv.gz
  std::vector<std::string> sources;  // artifact (or bundle) of shard 0..N-1
  std::string notes;                 // shards cut short, "" when none was
};

// Checks that `shards` (loaded recorded runs, any order) are the N distinct shards of one
// plan, then writes the merged bundle into `out` (which exists, empty): plan.json, the union
// of the samples in seq order, shard 0's scrape log, snapshots and hooks, every shard's logs
// under logs/shard-<i>/, and merged.json. Throws UsageError naming the artifact for a run
// that is not a shard, a different plan or shard count, a duplicate or a missing shard.
MergedShards merge_shards(const std::vector<RecordedRun>& shards, const BundleLayout& out);

}  // namespace faultline
