// The judge: evaluates parsed DSL statements (dsl/parser.h) over phase windows, reading
// values from a MetricSource. Pure given the source: no clock, no I/O.
//
// Windows in plan time (phases from the plan, [start, end)):
//   during(P)           [P.start, P.end)
//   during(P, last D)   [max(P.start, P.end - D), P.end)   (D longer than P is clamped and said)
//   after(P)            [P.start + len/2, P.end): the second half, when the system should
//                       have settled after whatever P started
//   overall             [first phase start, last phase end)
// A metric with its own window (`during(warmup).p95`) is read there; every other metric in
// the statement's window.
//
// Outcomes: a comparison passes or fails when all its values are known; it is inconclusive
// when a value is missing or rests on fewer samples than the traffic guard (client metrics:
// min_requests requests; server quantiles: min_histogram_count observations). `and`/`or`
// use three-valued logic: `and` fails if any operand fails, `or` passes if any passes;
// otherwise an inconclusive operand makes the whole inconclusive.
// `v back to normal` passes when |v - base| <= max(relative * |base|, absolute), base being
// v in during(<tolerance.baseline_phase or the first phase>); a baseline without enough
// samples is inconclusive, never a pass.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dsl/ast.h"
#include "judge/metric_source.h"
#include "judge/verdict.h"
#include "plan/plan.h"
#include "spec/scenario.h"

namespace faultline::judge {

struct JudgeOptions {
  Tolerance tolerance;  // for `back to normal`
  TrafficGuard guard;
};

struct ResolvedWindow {
  std::optional<TimeWindow> window;  // empty: cannot be resolved (or not started, when live)
  std::string note;  // why there is no window, or a remark on it ("last 40s clamped to 25s")
};

// Resolves a DSL window against the phases. With `now` (live judging), the window is cut at
// `now`, and `during(P, last D)` slides: [max(P.start, min(now, P.end) - D), min(now, P.end)).
// A window that has not started by `now` has no value.
ResolvedWindow resolve_window(const dsl::Window& window, const std::vector<PhaseWindow>& phases,
                              std::optional<Duration> now = std::nullopt);

// Every window judging `statement` reads (statement window, windows of cross-window values,
// the baseline of `back to normal`), resolved against the phases; e.g. for a runner that
// aggregates client samples per window while the run goes.
std::vector<TimeWindow> windows_read(const dsl::Statement& statement,
                                     const std::vector<PhaseWindow>& phases,
                                     const JudgeOptions& options);

// Judges an assertion (or an abort_if condition over complete windows).
// REQUIRES: statement has a condition (kind kAssertion or kAbortIf).
Verdict evaluate(const dsl::Statement& statement, const std::vector<PhaseWindow>& phases,
                 const MetricSource& source, const JudgeOptions& options);

// Judges an abort_if condition live, on the part of every window seen up to `now`. Empty
// when the statement's window has not started yet (nothing to judge). The run should abort
// when the result's status is kPass: the condition holds. Early in a window the traffic
// guard keeps the result inconclusive, so a handful of samples cannot abort a run.
std::optional<Verdict> evaluate_abort_if(const dsl::Statement& statement,
                                         const std::vector<PhaseWindow>& phases, Duration now,
                                         const MetricSource& source, const JudgeOptions& options);

// Judges a compare gate: the gate's metric read over the same window in both runs.
// "improves by >= 30%" passes when the candidate is at least 30% better than the baseline,
// relative to the baseline, in the metric's better direction (dsl::higher_is_better: only
// rps is better higher). "regresses by <= 10%" passes when it is at most 10% worse.
// REQUIRES: statement.kind == kCompareGate.
GateVerdict evaluate_gate(const dsl::Statement& statement, const std::vector<PhaseWindow>& phases,
                          const MetricSource& baseline, const MetricSource& candidate,
                          const JudgeOptions& options);

}  // namespace faultline::judge
