// Verdict: what judging one statement found, self-contained for reports: the canonical
// statement, the windows in plan time, every value read (with its sample count), the
// expected relation in words and a one-paragraph message for a human at 3 a.m.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dsl/ast.h"
#include "judge/metric_source.h"

namespace faultline::judge {

enum class VerdictStatus { kPass, kFail, kInconclusive };

const char* to_string(VerdictStatus status);  // "pass", "fail", "inconclusive"

// One metric read while judging.
struct ObservedOperand {
  std::string what;  // canonical metric text without its window: "p95(route=orders)"
  std::string run;   // compare gates: "baseline" or "candidate"; empty otherwise
  TimeWindow window;
  dsl::ValueType type = dsl::ValueType::kNumber;
  Observed observed;             // as the source answered
  std::string value_text;        // "412ms", or "no value"
  std::string sample_noun;       // "requests", "observations" (histogram count), "scrapes"
  int64_t required_samples = 0;  // the traffic guard that applied (0: none)
  // The value was not used because sample_count < required_samples.
  bool below_guard() const { return observed.sample_count < required_samples; }
};

struct Verdict {
  VerdictStatus status = VerdictStatus::kInconclusive;
  std::string statement;                  // canonical text (dsl/printer.h)
  std::vector<TimeWindow> windows;        // the statement's window first, then others read
  std::vector<ObservedOperand> operands;  // every read, in evaluation order
  std::string expected;                   // the relation in words, with the window
  std::string message;                    // one paragraph: what was expected, what was seen
};

// A confidence interval for a relative change; attached by a later significance stage.
struct ChangeInterval {
  double low = 0;
  double high = 0;
  double confidence = 0.95;
};

// The verdict of a compare gate. verdict.operands holds the baseline read, then the candidate.
struct GateVerdict {
  Verdict verdict;
  // Relative change from baseline to candidate in the metric's better direction: +0.3 means
  // 30% better (lower latency/error rate, higher rps), -0.1 means 10% worse. Empty when a
  // value is missing. From a baseline of 0 the change is 0 (to 0) or +-infinity.
  std::optional<double> improvement;
  bool higher_is_better = false;
  // Hook for significance testing: empty until a later stage computes it from the samples.
  std::optional<ChangeInterval> change_interval;
};

}  // namespace faultline::judge
