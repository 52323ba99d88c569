// RunFacts: what judging knows of a run as a whole rather than of a window of it: the JSON
// output of each verify hook, and the id history that compares the ids the system
// acknowledged (routes' ack_id) with the ids a verify hook says it applied (applied_ids).
// DSL reads: `history.lost` and friends, `verify.<hook>("/pointer")`. Pure values; the run
// and `faultline judge` fill them (recorded/run_observations.h).
//
// The history, as Jepsen's total-queue checker counts it, on ids rather than counters (a
// counter check hides one lost order plus one duplicated one):
//   acknowledged  distinct ids of 2xx samples that carried one
//   applied       entries of the applied_ids array, duplicates included
//   lost          acknowledged, never applied
//   duplicated    applied more than once (each such id once)
//   unexpected    applied, never acknowledged (e.g. a request that timed out on the client
//                 but was processed: not an error by itself, shown so it can be asserted)
// Examples keep the first IdSet::kMaxExamples ids: lost in the order they were acknowledged
// (by request sequence), duplicated and unexpected in the order the hook listed them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dsl/metric_query.h"
#include "judge/metric_source.h"

namespace faultline::judge {

struct IdSet {
  static constexpr size_t kMaxExamples = 20;
  int64_t count = 0;
  std::vector<std::string> examples;  // at most kMaxExamples
  bool operator==(const IdSet&) const = default;
};

struct IdHistory {
  std::string source_hook;   // the verify hook that gave applied_ids
  int64_t acknowledged = 0;  // distinct acknowledged ids
  int64_t applied = 0;       // applied_ids entries, duplicates included
  int64_t ack_missing = 0;   // 2xx responses of routes with ack_id that gave no id
  IdSet lost, duplicated, unexpected;
  bool operator==(const IdHistory&) const = default;
};

// `acknowledged`: (request seq, id) of every 2xx sample with an id, in any order.
IdHistory compute_id_history(std::vector<std::pair<uint64_t, std::string>> acknowledged,
                             const std::vector<std::string>& applied);

// The ids of the array at `pointer` in `json` (strings as they are, integers in decimal).
// False with *error set when the text is not JSON, the pointer finds nothing or not an array,
// or an entry is not a string or an integer.
bool applied_ids_from_json(const std::string& json, const std::string& pointer,
                           std::vector<std::string>* ids, std::string* error);

// What a verify hook left for judging.
struct VerifyOutput {
  bool ok = false;     // the hook succeeded
  std::string error;   // why not (or why its output is missing)
  std::string output;  // its stdout or HTTP body
};

struct RunFacts {
  std::map<std::string, VerifyOutput> verify;  // by hook name
  std::optional<IdHistory> history;
  std::string no_history;  // why history is empty ("no verify hook gives applied_ids", ...)
};

// Answers a history.* or verify.* read. A number with sample_count = the ids it rests on
// (history) or 1 (verify); no value, with the reason in `note`, otherwise.
Observed answer_run_fact(const RunFacts& facts, const dsl::RunFactQuery& query);

}  // namespace faultline::judge
