// Canonical serialization of a Plan and its hash. The canonical form is compact JSON with
// keys in a fixed order and numbers printed by RapidJSON's shortest round-trip algorithm
// (its own code, not printf), so it is byte-identical across compilers and machines.
#pragma once

#include <string>

#include "plan/arrival_stream.h"
#include "plan/plan.h"

namespace faultline {

// Canonical JSON of everything that determines the run, excluding plan_hash itself.
std::string canonical_plan_json(const Plan& plan);

// sha256 hex of canonical_plan_json(plan).
std::string compute_plan_hash(const Plan& plan);

// The plan for tools: canonical content plus "plan_hash", expected counts per phase and
// route, and, when first_arrivals > 0, that many arrivals. Pretty-printed when `pretty`.
std::string plan_to_json(const Plan& plan, size_t first_arrivals, bool pretty);

// The inverse of plan_to_json: rebuilds a plan from its JSON (the bundle's plan.json), so a
// recorded run can be replayed or re-judged without its spec. Checks that the rebuilt plan
// hashes to the recorded plan_hash. Throws UsageError naming what is wrong.
Plan plan_from_json(const std::string& json);

// One arrival as a JSON object (used by plan --arrivals and by run records).
std::string arrival_to_json(const Arrival& arrival);

}  // namespace faultline
