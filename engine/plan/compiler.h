// The plan compiler: Scenario + overrides -> Plan. Pure: no I/O, no clock, no network.
#pragma once

#include "plan/plan.h"
#include "spec/scenario.h"

namespace faultline {

// REQUIRES: `scenario` passed validation (names resolve, durations > 0, weights > 0).
// Throws UsageError for overrides that make no sense (--qps <= 0, --duration too short to
// give every phase at least 1 ms).
Plan compile_plan(const Scenario& scenario, const PlanOverrides& overrides);

// The fault timeline of `scenario` over `phases` (its phases as compiled): a step wherever a
// target's state changes, at phase starts and at the edges of scheduled entries, then a
// reset of every target still faulted at the last phase's end. Within an instant, steps are
// ordered by (kind, target). Throws UsageError for a schedule over kMaxFaultActivations.
std::vector<FaultStep> fault_timeline(const Scenario& scenario,
                                      const std::vector<PhaseWindow>& phases);

// Scrape ticks of a plan: 0, every scrape interval up to the end, and every phase end.
std::vector<Duration> scrape_ticks_for(const Plan& plan);

}  // namespace faultline
