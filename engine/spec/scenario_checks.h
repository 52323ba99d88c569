// Cross-reference checks of a built scenario: names used where they are not defined (fault
// profiles, phases, services of the environment), capacity (peak rate x timeout against
// max_in_flight: a warning, since only a stalled target reaches it), the number of scrape rounds
// (kMaxScrapeRounds), and every DSL statement (assert, abort_if, compare) through the DSL checker.
// Problems inside a statement are placed at their column in the file.
#pragma once

#include <string>

#include "spec/diagnostic_sink.h"
#include "spec/environment.h"
#include "spec/scenario.h"
#include "spec/scenario_builder.h"

namespace faultline {

// `environment` is null when the environment file did not load; checks that need it are then
// skipped (its own diagnostics explain why). `environment_path` names it in messages.
void check_scenario(const Scenario& scenario, const ScenarioReferences& refs,
                    const Environment* environment, const std::string& environment_path,
                    DiagnosticSink& sink);

}  // namespace faultline
