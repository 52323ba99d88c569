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
//
// Recovery statements (`after(P): <condition> within D`, assertions only):
//   window    [P.end, Q.end), Q the phase after P: the clock starts when P ends, which is
//             when P's faults are lifted, and the system must stay recovered through Q.
//   points    the condition is judged at a series of points t in (P.end, Q.end]. A client
//             metric is read over the bucket [t - b, t) of the latest bucket ending at or
//             before t; buckets are b = 1 s long from P.end (kRecoveryBucket; longer for a
//             window over kMaxRecoveryBuckets s, so no window has more buckets), the last
//             one cut at Q.end. A server metric is read at the latest scrape tick
//             (JudgeOptions::scrape_ticks) at or before t and after P.end: a gauge's value in
//             that scrape, a counter or histogram over the interval from the tick before it.
//             The points are the bucket ends (when a client metric is read) and the ticks
//             (when a server metric is read). A point where a value is missing or below the
//             traffic guard is inconclusive, never "recovered".
//   rule      the deadline point m is the last point at or before P.end + D. Pass when every
//             point from m to the end holds; fail when one of them fails; else inconclusive.
//             The measured recovery time is T - P.end, T the first point of the final run
//             of holding points (so it is at most D on a pass, and reported when too late).
//   verdict   operands[0] is the recovery time ("recovery time", a duration, no value when
//             the system never recovered; its sample count is the points judged), then the
//             reads at the point that decided; the message names the times, e.g.
//             "recovered after 12s (limit 30s)", "recovered after 4s but broke again at 9s".
#pragma once

#include <map>
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
  // The plan times of the scrape rounds (Plan::scrape_ticks), sorted: the points at which a
  // recovery statement follows server metrics. Without them such a statement is inconclusive.
  std::vector<Duration> scrape_ticks = {};
  // The plan's phases (their rates) and each route's share of the traffic: a recovery
  // statement's client buckets are made long enough that the traffic the plan sends into one
  // is twice guard.min_requests (of the routes the statement selects), so a thin bucket does
  // not leave it without a verdict by chance. Empty: kRecoveryBucket.
  std::vector<PhaseWindow> phases = {};
  std::map<std::string, double> route_share = {};
};

// The options a plan's statements are judged with.
JudgeOptions judge_options(const Plan& plan);

// Client buckets of recovery statements: 1 s, or whole seconds long enough for twice the
// traffic guard at the planned rate (JudgeOptions::phases), and longer when the recovery
// window would have more than kMaxRecoveryBuckets of them (the runner keeps one set of client
// figures per bucket).
inline constexpr Duration kRecoveryBucket = std::chrono::seconds(1);
inline constexpr int64_t kMaxRecoveryBuckets = 600;

struct ResolvedWindow {
  std::optional<TimeWindow> window;  // empty: cannot be resolved (or not started, when live)
  std::string note;  // why there is no window, or a remark on it ("last 40s clamped to 25s")
};

// Resolves a DSL window against the phases. With `now` (live judging), the window is cut at
// `now`, and `during(P, last D)` slides: [max(P.start, min(now, P.end) - D), min(now, P.end)).
// A window that has not started by `now` has no value.
ResolvedWindow resolve_window(const dsl::Window& window, const std::vector<PhaseWindow>& phases,
                              std::optional<Duration> now = std::nullopt);

// The window of a recovery statement: [P.end, Q.end) for after(P), Q the phase after P.
// Empty, with the reason, for any other window, an unknown P or a last P.
ResolvedWindow resolve_recovery_window(const dsl::Window& window,
                                       const std::vector<PhaseWindow>& phases);

// Every window judging `statement` reads (statement window, windows of cross-window values,
// the baseline of `back to normal`), resolved against the phases; e.g. for a runner that
// aggregates client samples per window while the run goes. For a recovery statement: its
// window and the other windows, not its buckets (a source that records the questions it is
// asked, as recorded/run_observations.cc judging_windows does, sees those too).
std::vector<TimeWindow> windows_read(const dsl::Statement& statement,
                                     const std::vector<PhaseWindow>& phases,
                                     const JudgeOptions& options);

// Judges an assertion (or an abort_if condition over complete windows).
// REQUIRES: statement has a condition (kind kAssertion or kAbortIf).
Verdict evaluate(const dsl::Statement& statement, const std::vector<PhaseWindow>& phases,
                 const MetricSource& source, const JudgeOptions& options);

// A recovery statement in abort_if is inconclusive (never aborts): it needs the whole window.
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
