// The compare stage: two recorded runs of one plan (a baseline, e.g. tagged "before", and a
// candidate, "after"), judged gate by gate - the regression gate that proves a fix works.
//
// A gate (`during(trigger): p95(route=orders) improves by >= 30%`, from the plan's compare:
// list or from --gate) is judged twice over:
//   1. on the point values, by the judge (judge::evaluate_gate), traffic guard included;
//   2. for client metrics, on the raw samples of both bundles: a bootstrap interval of the
//      relative improvement (compare/bootstrap.h) over the same requests the judge read
//      (compare/sample_selection.h).
// The verdict needs both. For a lower bound (`improves by >= X`, `regresses by > X`) the
// point change must meet X and the interval must exclude 0 in the named direction: the
// change is real, not noise. For an upper bound (`regresses by <= X`, `improves by < X`) the
// point and the interval's far end must both stay within X: we are confident the change is
// no larger. Server-side metrics and computed values (`p95 / during(warmup).p95`) have no raw
// samples: they are judged on the point values and say "no interval". A gate below the
// traffic guard in either run is inconclusive, which fails the comparison.
//
// Pure given the recorded runs: reads the bundles, no network, no clock; the bootstrap is
// seeded (from both plan hashes unless a seed is given), so the same inputs give the same
// comparison.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compare/bootstrap.h"
#include "compare/plan_diff.h"
#include "dsl/ast.h"
#include "judge/verdict.h"
#include "recorded/recorded_run.h"
#include "spec/diagnostic.h"

namespace faultline::compare {

struct CompareOptions {
  std::vector<std::string> gates;  // --gate texts; check them with check_gate_texts first
  bool use_spec_gates = true;      // also judge the plans' compare: lists
  bool allow_different_plans = false;
  int resamples = 2000;
  double confidence = 0.95;
  std::optional<uint64_t> seed;  // bootstrap seed; default: derived from both plan hashes
};

// What the comparison records of each input run.
struct RunInfo {
  std::string artifact, tag, status, started_at, environment, plan_hash;
  uint64_t seed = 0;  // the plan's seed
  std::string note;   // e.g. its samples were cut short
};

enum class Significance {
  kImprovement,  // the interval lies above 0
  kRegression,   // the interval lies below 0
  kNoChange,     // the interval includes 0: no significant change
  kNotTested,    // no interval (server-side, computed value, or a value is missing)
};
const char* to_string(Significance s);  // "significant improvement", ..., "not tested"

// One metric read in both runs.
struct ValueRead {
  std::optional<double> value;  // normalised units (seconds, fractions, per second)
  std::string text;             // "412ms", or "no value"
  int64_t samples = 0;
  std::string noun = "requests";  // what samples counts: requests, observations, scrapes
  std::string note;               // why there is no value
};

// A metric over a window in both runs, with the change and, where possible, its interval.
struct MetricComparison {
  std::string metric;  // canonical text: "p95(route=orders)"
  dsl::ValueType type = dsl::ValueType::kNumber;
  judge::TimeWindow window;  // in the baseline's plan
  ValueRead baseline, candidate;
  bool higher_is_better = false;
  std::optional<double> improvement;       // + is better (judge::GateVerdict::improvement)
  std::optional<ChangeEstimate> interval;  // bootstrap of the improvement
  std::string interval_note;               // why there is none ("no interval (server-side)")
  Significance significance = Significance::kNotTested;
};

struct GateResult {
  std::string statement;       // canonical
  std::string origin;          // "spec" (the plan's compare: list) or "--gate"
  std::string phase;           // the phase of the statement's window; empty for overall
  std::string direction;       // "improves" or "regresses"
  std::string op;              // ">=", ">", "<=" or "<"
  double threshold = 0;        // a fraction: 30% = 0.3
  std::string threshold_text;  // as written: "30%"
  MetricComparison change;
  judge::VerdictStatus status = judge::VerdictStatus::kInconclusive;
  std::string expected;  // the relation in words, with the window
  // One paragraph: both values with their sample counts, the change, the interval and its
  // significance, and why the gate passed or failed.
  std::string message;
};

// Context for a phase: p50, p95, p99 and error_rate of all its requests in both runs.
struct PhaseComparison {
  std::string name;
  judge::TimeWindow window;
  std::vector<MetricComparison> metrics;
};

struct Comparison {
  std::string scenario;
  RunInfo baseline, candidate;
  std::vector<PlanDifference> plan_differences;  // empty when the plans are the same
  BootstrapOptions bootstrap;                    // as used (seed resolved)
  std::vector<PhaseComparison> phases;           // the baseline plan's phases, in order
  std::vector<GateResult> gates;
  std::vector<std::string> notes;
  // Filled by the caller for the artifact.
  std::string created_at, command;

  bool passed() const;  // at least one gate, and every gate passed
};

// Problems with --gate texts against the plan (phases, routes, services), one diagnostic each
// at "--gate:<n>:<column>" with the text as its source line, so format_diagnostic puts a
// caret under the offending part. Empty when all are valid.
std::vector<Diagnostic> check_gate_texts(const std::vector<std::string>& gates, const Plan& plan);

// The gates to judge, in order: the baseline plan's compare: list, then the candidate's
// gates the baseline lacks, then the --gate texts; duplicates (same canonical text) once.
struct GateSource {
  dsl::Statement statement;
  std::string origin;
};
std::vector<GateSource> gates_to_judge(const Plan& baseline, const Plan& candidate,
                                       const CompareOptions& options);

// Compares the runs. Throws UsageError (exit 2) when their plans differ and that is not
// allowed (the message names every differing input with both values), when there is no gate,
// when a gate does not parse, or when a bundle's logs cannot be read.
Comparison compare_runs(const RecordedRun& baseline, const RecordedRun& candidate,
                        const CompareOptions& options);

}  // namespace faultline::compare
