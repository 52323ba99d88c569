// Plan: everything a run will do, fixed before anything is sent. A pure function of
// (scenario, seed, overrides): phase windows, the arrival schedule (generated lazily by
// ArrivalStream from the parameters here), the fault timeline, scrape ticks and the
// statements to judge. Its canonical serialization (plan_json.h) is hashed; the hash is
// printed by `faultline plan` and stored in every artifact.
//
// Times are plan time: microseconds since the start of the first phase.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/units.h"
#include "dsl/ast.h"
#include "spec/scenario.h"

namespace faultline {

// Inputs that change the plan besides the spec itself (CLI flags). Recorded in the plan.
struct PlanOverrides {
  std::optional<uint64_t> seed;      // --seed: replaces the spec's seed
  std::optional<double> qps;         // --qps: the base rate; phase rates scale by qps/base
  std::optional<Duration> duration;  // --duration: phases scale so their sum is this
};

struct PhaseWindow {
  std::string name;
  Duration start{0};
  Duration end{0};
  double rate_from = 0;  // requests/s at start
  double rate_to = 0;    // requests/s at end (== rate_from for a constant rate)

  Duration length() const { return end - start; }
  // Requests the phase is expected to send: the integral of the rate over the phase.
  double expected_requests() const;
};

// The kinds of fault a plan holds. Each has one FaultDriver (engine/faults/) and its own
// state object, the canonical JSON a FaultStep carries ("{}" is baseline for every kind):
//   knobs    target: a service.  state: the knob object, POSTed to /__faults.
//   levers   target: a service.  state: the lever object, PUT to /__levers (the service's
//            runtime rollback switches; same lease and undo as knobs).
//   process  target: a service ("api", every instance) or one instance ("api#1").
//            state: {"action":"kill"|"terminate"|"pause"|"restart", "grace_us":N,
//                    "restart_after_us":N, "restarts":N}  (grace for terminate and restart;
//                    the last two only with restart_after)
//   proxy    target: a proxy of the environment.
//            state: {"toxics":[{"name":..,"type":..,"direction":..,"toxicity":..,
//                    <the type's attributes, named as the fields of faults/toxic.h's Toxic:
//                    latency_ms, delay_us, bytes, ...>}, ...]}  (sorted by name)
//   exec     target: the hook's name.
//            state: {"run":[argv],"undo":[argv],"shell":bool,"timeout_us":N}
// The state is what the target must be from `at` on; a driver moves its target there from
// whatever the previous step left.
inline constexpr const char* kFaultKinds[] = {"knobs", "levers", "process", "proxy", "exec"};

// One step of the fault timeline: at `at`, bring `target` of `kind` exactly to `state_json`.
struct FaultStep {
  Duration at{0};
  std::string phase;  // the phase `at` falls in ("" for the final reset at the plan's end)
  std::string kind = "knobs";
  std::string target;
  std::string state_json;  // canonical JSON object text
  bool is_reset() const { return state_json == "{}"; }
};

// The environment service a step acts on ("api" for "api#1"; a proxy is one of the
// environment's services too), or "" for exec, which acts on no service.
std::string fault_step_service(const FaultStep& step);

// A statement of the scenario, parsed once when the plan is built. Every PlannedStatement in
// a Plan has `parsed` set: compile_plan and plan_from_json refuse a statement that does not
// parse, so no later stage parses statement text again or skips one silently.
struct PlannedStatement {
  std::string text;  // as written in the spec
  SourceLoc loc;
  std::shared_ptr<const dsl::Statement> parsed;  // shared: plans are copied freely
};

// Parses `text` as a statement of `kind`. Throws UsageError naming `where` (a spec place or a
// file) and the parse error when it does not parse.
PlannedStatement plan_statement(std::string text, SourceLoc loc, dsl::StatementKind kind,
                                const std::string& where);

struct Plan {
  // Bumped whenever arrival generation or the canonical form changes, so hashes from
  // different algorithms never collide silently.
  static constexpr const char* kAlgorithm = "faultline-plan/1";

  std::string scenario_name;
  std::string description;
  std::string target;
  uint64_t seed = 0;
  PlanOverrides overrides;
  double base_rate = 0;  // requests/s after --qps

  std::vector<PhaseWindow> phases;
  Duration total{0};

  ArrivalProcess arrival = ArrivalProcess::kConstant;
  Duration request_timeout{0};
  int max_in_flight = 0;
  // Not part of the plan (not in its JSON or hash): how many load-engine loops send it.
  // 0 is automatic: one per kArrivalsPerLoopThread requests/s of peak rate, at least 1, at
  // most the machine's cores (run/runner.cc).
  int threads = 0;
  std::vector<RouteSpec> routes;  // weights, templates and vars, as the stream uses them

  // The fault timeline, sorted by `at`: a step wherever a target's state changes (at phase
  // starts and at the edges of scheduled faults), and a reset of everything still faulted
  // at `total`.
  std::vector<FaultStep> fault_steps;

  Duration scrape_interval{0};
  std::vector<ScrapeTarget> scrape_targets;
  std::vector<std::string> metrics_of_interest;
  std::vector<Duration> scrape_ticks;  // sorted, unique; includes 0, every phase end

  TrafficGuard guard;
  Tolerance tolerance;
  std::vector<PlannedStatement> assertions;
  std::vector<PlannedStatement> abort_if;
  std::vector<PlannedStatement> compare_gates;
  // Setup and verify hooks (run/hooks.h). Part of the canonical form only when there are any,
  // so plans without hooks keep their hashes.
  ScenarioHooks hooks;

  std::string plan_hash;  // sha256 of canonical_plan_json(plan) (without the hash itself)

  const PhaseWindow* phase_at(Duration t) const;  // the phase containing t, or null
  const PhaseWindow* find_phase(const std::string& name) const;
};

}  // namespace faultline
