// Why two recorded runs cannot be compared: the inputs their plans differ in. Two runs are
// comparable when they ran the same plan (same plan hash): same spec, seed, rates, phases,
// routes, faults, observation and statements. When the hashes differ, diff_plans names every
// differing member of the canonical plan (plan/plan_json.h canonical_plan_json) as a path with
// both values, e.g. "seed: 42 vs 43", "phases[1].end_us: 40000000 vs 45000000".
#pragma once

#include <string>
#include <vector>

#include "plan/plan.h"

namespace faultline::compare {

struct PlanDifference {
  std::string path;       // "seed", "phases[1].end_us", "traffic.routes[0].weight"
  std::string baseline;   // the baseline plan's value as compact JSON; "(absent)" if missing
  std::string candidate;  // likewise for the candidate
  std::string str() const { return path + ": " + baseline + " vs " + candidate; }
};

// Every leaf where the canonical plans differ, in canonical member order. Arrays are compared
// element by element; an element present in one plan only is reported whole. Empty when the
// plans hash the same.
std::vector<PlanDifference> diff_plans(const Plan& baseline, const Plan& candidate);

}  // namespace faultline::compare
