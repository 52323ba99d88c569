#include "judge/evaluator.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "dsl/printer.h"
#include "dsl/problem.h"
#include "dsl/types.h"
#include "dsl/vocabulary.h"
#include "judge/value_format.h"

namespace faultline::judge {

namespace {

using dsl::Condition;
using dsl::join;
using dsl::MetricRef;
using dsl::ValueExpr;

// The value of an expression, or why there is none.
struct Reading {
  std::optional<double> value;
  std::vector<std::string> reasons;
};

// One comparison (or `back to normal`) as judged: what it said, what was seen.
struct Leaf {
  std::string text;                  // canonical condition text
  std::string observed;              // set when both sides had values
  std::vector<std::string> reasons;  // set when inconclusive
};

// A judged condition and the leaves that explain its status (for `a and b` failing: the
// failed ones; for `a or b` passing: the passing ones; ...).
struct Outcome {
  VerdictStatus status = VerdictStatus::kInconclusive;
  std::vector<Leaf> leaves;
};

bool holds(double lhs, dsl::CompareOp op, double rhs) {
  switch (op) {
    case dsl::CompareOp::kGt:
      return lhs > rhs;
    case dsl::CompareOp::kGe:
      return lhs >= rhs;
    case dsl::CompareOp::kLt:
      return lhs < rhs;
    case dsl::CompareOp::kLe:
      return lhs <= rhs;
    case dsl::CompareOp::kEq:
      return lhs == rhs;
    case dsl::CompareOp::kNe:
      return lhs != rhs;
  }
  return false;
}

const char* op_words(dsl::CompareOp op) {
  switch (op) {
    case dsl::CompareOp::kGt:
      return "above";
    case dsl::CompareOp::kGe:
      return "at least";
    case dsl::CompareOp::kLt:
      return "below";
    case dsl::CompareOp::kLe:
      return "at most";
    case dsl::CompareOp::kEq:
      return "equal to";
    case dsl::CompareOp::kNe:
      return "not equal to";
  }
  return "?";
}

void append_unique(std::vector<std::string>* out, const std::vector<std::string>& items) {
  for (const auto& item : items) {
    if (std::find(out->begin(), out->end(), item) == out->end()) out->push_back(item);
  }
}

std::string baseline_phase(const std::vector<PhaseWindow>& phases, const Tolerance& tolerance) {
  if (!tolerance.baseline_phase.empty()) return tolerance.baseline_phase;
  return phases.empty() ? std::string() : phases.front().name;
}

// Reads values for one run (live or complete) and records every read into a Verdict.
class Judging {
 public:
  Judging(const std::vector<PhaseWindow>& phases, const MetricSource& source,
          const JudgeOptions& options, std::optional<Duration> now, std::string run,
          Verdict* verdict)
      : phases_(phases),
        source_(source),
        options_(options),
        now_(now),
        run_(std::move(run)),
        verdict_(verdict) {}

  std::optional<TimeWindow> window(const dsl::Window& w, std::vector<std::string>* reasons) {
    ResolvedWindow r = resolve_window(w, phases_, now_);
    if (!r.window) {
      reasons->push_back(r.note);
      return std::nullopt;
    }
    if (!r.note.empty()) append_unique(&notes_, {r.note});
    auto& windows = verdict_->windows;
    if (std::find(windows.begin(), windows.end(), *r.window) == windows.end()) {
      windows.push_back(*r.window);
    }
    return r.window;
  }

  Reading value(const ValueExpr& v, const TimeWindow& w) {
    switch (v.kind) {
      case ValueExpr::Kind::kLiteral:
        return {v.literal.value, {}};
      case ValueExpr::Kind::kMetric:
        return metric(v.metric, w);
      case ValueExpr::Kind::kArith: {
        Reading acc = value(v.operands.front(), w);
        for (size_t i = 1; i < v.operands.size(); ++i) {
          const Reading rhs = value(v.operands[i], w);
          append_unique(&acc.reasons, rhs.reasons);
          if (!acc.value || !rhs.value) {
            acc.value.reset();
          } else if (v.ops[i - 1] == '/' && *rhs.value == 0) {
            append_unique(&acc.reasons,
                          {dsl::to_string(v) + " divides by zero in " + format_window(w)});
            acc.value.reset();
          } else {
            acc.value = v.ops[i - 1] == '*' ? *acc.value * *rhs.value : *acc.value / *rhs.value;
          }
        }
        return acc;
      }
    }
    return {};
  }

  Outcome condition(const Condition& c, const TimeWindow& w) {
    switch (c.kind) {
      case Condition::Kind::kCompare:
        return compare(c, w);
      case Condition::Kind::kBackToNormal:
        return back_to_normal(c, w);
      case Condition::Kind::kAnd:
      case Condition::Kind::kOr:
        return combine(c, w);
    }
    return {};
  }

  // What was read in operands [first, last): "412ms over 734 requests" when it is a single
  // read that stands alone, else "p95 = 412ms over 734 requests in during(warmup) [..), ...".
  std::string describe_reads(size_t first, size_t last, const TimeWindow& w, bool alone) const {
    std::vector<std::string> parts;
    for (size_t i = first; i < last; ++i) {
      const ObservedOperand& op = verdict_->operands[i];
      std::string part = alone && last - first == 1 ? "" : op.what + " = ";
      part += op.value_text + " over " + std::to_string(op.observed.sample_count) + " " +
              op.sample_noun;
      if (!(op.window == w)) part += " in " + format_window(op.window);
      parts.push_back(std::move(part));
    }
    return join(parts, ", ");
  }

  const std::vector<std::string>& notes() const { return notes_; }

 private:
  Reading metric(const MetricRef& m, const TimeWindow& statement_window) {
    Reading r;
    TimeWindow w = statement_window;
    if (m.window) {
      const auto own = window(*m.window, &r.reasons);
      if (!own) return r;
      w = *own;
    }
    ObservedOperand op;
    op.run = run_;
    op.window = w;
    op.type = dsl::metric_type(m);
    std::string of;  // " for p95(route=orders)": names the population when it is not all
    if (m.side == MetricRef::Side::kClient) {
      op.what = dsl::to_string(m.client);
      op.observed = source_.client(w, m.client);
      op.sample_noun = "requests";
      op.required_samples = options_.guard.min_requests;
      if (!m.client.selectors.empty()) of = " for " + op.what;
    } else {
      op.what = dsl::to_string(m.server);
      op.observed = source_.server(w, m.server);
      const bool quantile =
          dsl::server_function_kind(m.server.function) == dsl::ServerFunctionKind::kQuantile;
      op.sample_noun = quantile ? "observations" : "scrapes";
      op.required_samples = quantile ? options_.guard.min_histogram_count : 0;
      of = " of " + m.server.metric_name;
    }
    if (op.observed.value && std::isnan(*op.observed.value)) {
      op.observed.value.reset();
      op.observed.note += op.observed.note.empty() ? "NaN" : " (NaN)";
    }
    const std::string prefix = run_.empty() ? "" : run_ + ": ";
    const Observed& o = op.observed;
    if (!o.value) {
      op.value_text = "no value";
      std::string why = o.note;
      if (!o.failures.empty() && why.find(o.failures) == std::string::npos)
        why += (why.empty() ? "" : "; ") + o.failures;
      r.reasons.push_back(prefix + "no value for " + op.what + " in " + format_window(w) +
                          (why.empty() ? "" : ": " + why));
    } else {
      op.value_text = format_value(*o.value, op.type);
      if (op.below_guard()) {
        // Failed scrapes, not too little traffic, are then why the value rests on so little.
        r.reasons.push_back(
            prefix + "only " + std::to_string(o.sample_count) + " " + op.sample_noun + of + " in " +
            format_window(w) + ", need >= " + std::to_string(op.required_samples) + ": " +
            (o.failures.empty() ? "raise the rate or lengthen the phase" : o.failures));
      } else {
        r.value = o.value;
        if (!o.failures.empty()) append_unique(&notes_, {prefix + op.what + ": " + o.failures});
      }
      if (!o.note.empty()) append_unique(&notes_, {prefix + op.what + ": " + o.note});
    }
    verdict_->operands.push_back(std::move(op));
    return r;
  }

  Outcome compare(const Condition& c, const TimeWindow& w) {
    const size_t first = verdict_->operands.size();
    const Reading lhs = value(c.values[0], w);
    const Reading rhs = value(c.values[1], w);
    Leaf leaf{dsl::to_string(c), "", {}};
    if (!lhs.value || !rhs.value) {
      append_unique(&leaf.reasons, lhs.reasons);
      append_unique(&leaf.reasons, rhs.reasons);
      return {VerdictStatus::kInconclusive, {leaf}};
    }
    const auto is = [](const ValueExpr& v, ValueExpr::Kind k) { return v.kind == k; };
    const bool alone =
        (is(c.values[0], ValueExpr::Kind::kMetric) && is(c.values[1], ValueExpr::Kind::kLiteral)) ||
        (is(c.values[1], ValueExpr::Kind::kMetric) && is(c.values[0], ValueExpr::Kind::kLiteral));
    leaf.observed = describe_reads(first, verdict_->operands.size(), w, alone);
    // Computed sides: say what they came to.
    for (size_t i = 0; i < 2; ++i) {
      if (c.values[i].kind != ValueExpr::Kind::kArith) continue;
      const double v = i == 0 ? *lhs.value : *rhs.value;
      leaf.observed += (leaf.observed.empty() ? "" : ", ") + dsl::to_string(c.values[i]) + " = " +
                       format_value(v, dsl::value_type(c.values[i]));
    }
    const bool ok = holds(*lhs.value, c.op, *rhs.value);
    return {ok ? VerdictStatus::kPass : VerdictStatus::kFail, {leaf}};
  }

  Outcome back_to_normal(const Condition& c, const TimeWindow& w) {
    const ValueExpr& v = c.values[0];
    Leaf leaf{dsl::to_string(c), "", {}};
    const size_t first = verdict_->operands.size();
    const Reading current = value(v, w);
    const size_t mid = verdict_->operands.size();
    append_unique(&leaf.reasons, current.reasons);

    Reading base;
    dsl::Window baseline;
    baseline.kind = dsl::Window::Kind::kDuring;
    baseline.phase = baseline_phase(phases_, options_.tolerance);
    std::vector<std::string> base_reasons;
    if (const auto bw = window(baseline, &base_reasons)) base = value(v, *bw);
    append_unique(&base_reasons, base.reasons);
    for (const auto& reason : base_reasons) append_unique(&leaf.reasons, {"baseline " + reason});
    if (!current.value || !base.value) return {VerdictStatus::kInconclusive, {leaf}};

    const dsl::ValueType type = dsl::value_type(v);
    const double diff = std::fabs(*current.value - *base.value);
    const double allowed =
        std::max(options_.tolerance.relative * std::fabs(*base.value), options_.tolerance.absolute);
    const bool alone = v.kind == ValueExpr::Kind::kMetric;
    leaf.observed = describe_reads(first, mid, w, alone) + ", baseline " +
                    describe_reads(mid, verdict_->operands.size(), w, alone) + ": off by " +
                    format_value(diff, type) + ", allowed " + format_value(allowed, type);
    return {diff <= allowed ? VerdictStatus::kPass : VerdictStatus::kFail, {leaf}};
  }

  Outcome combine(const Condition& c, const TimeWindow& w) {
    const bool is_and = c.kind == Condition::Kind::kAnd;
    const VerdictStatus decisive = is_and ? VerdictStatus::kFail : VerdictStatus::kPass;
    const VerdictStatus otherwise = is_and ? VerdictStatus::kPass : VerdictStatus::kFail;
    std::vector<Outcome> parts;
    for (const auto& operand : c.operands) parts.push_back(condition(operand, w));
    const auto any = [&](VerdictStatus s) {
      return std::any_of(parts.begin(), parts.end(),
                         [&](const Outcome& o) { return o.status == s; });
    };
    Outcome out;
    out.status = any(decisive)                       ? decisive
                 : any(VerdictStatus::kInconclusive) ? VerdictStatus::kInconclusive
                                                     : otherwise;
    for (auto& part : parts) {
      if (part.status != out.status) continue;
      for (auto& leaf : part.leaves) out.leaves.push_back(std::move(leaf));
    }
    return out;
  }

  const std::vector<PhaseWindow>& phases_;
  const MetricSource& source_;
  const JudgeOptions& options_;
  std::optional<Duration> now_;
  std::string run_;
  Verdict* verdict_;
  std::vector<std::string> notes_;
};

// The relation in words: "p95(route=orders) above 800ms and error_rate below 2%".
std::string expected_words(const Condition& c, const JudgeOptions& options,
                           const std::string& baseline) {
  switch (c.kind) {
    case Condition::Kind::kCompare:
      return dsl::to_string(c.values[0]) + " " + op_words(c.op) + " " + dsl::to_string(c.values[1]);
    case Condition::Kind::kBackToNormal:
      return dsl::to_string(c.values[0]) + " within " +
             format_value(options.tolerance.relative, dsl::ValueType::kFraction) + " or " +
             format_value(options.tolerance.absolute, dsl::value_type(c.values[0])) +
             " of its value in during(" + dsl::format_name(baseline) + ")";
    case Condition::Kind::kAnd:
    case Condition::Kind::kOr: {
      std::vector<std::string> parts;
      for (const auto& operand : c.operands) {
        const std::string words = expected_words(operand, options, baseline);
        const bool paren = c.kind == Condition::Kind::kAnd && operand.kind == Condition::Kind::kOr;
        parts.push_back(paren ? "(" + words + ")" : words);
      }
      return join(parts, c.kind == Condition::Kind::kAnd ? " and " : " or ");
    }
  }
  return "";
}

std::string with_notes(std::string message, const std::vector<std::string>& notes) {
  if (!notes.empty()) message += " (" + join(notes, "; ") + ")";
  return message;
}

std::optional<Verdict> judge_condition(const dsl::Statement& statement,
                                       const std::vector<PhaseWindow>& phases,
                                       std::optional<Duration> now, const MetricSource& source,
                                       const JudgeOptions& options) {
  if (!statement.condition) {
    throw std::invalid_argument("evaluate: compare gates are judged by evaluate_gate");
  }
  const Condition& cond = *statement.condition;
  Verdict v;
  v.statement = dsl::to_string(statement);
  const std::string condition_text = dsl::to_string(cond);
  const std::string words =
      expected_words(cond, options, baseline_phase(phases, options.tolerance));

  const ResolvedWindow complete = resolve_window(statement.window, phases);
  if (!complete.window) {
    v.expected = words + " " + dsl::to_string(statement.window);
    v.message = "cannot judge " + v.statement + ": " + complete.note;
    return v;
  }
  if (now && !resolve_window(statement.window, phases, now).window) return std::nullopt;

  Judging judging(phases, source, options, now, "", &v);
  std::vector<std::string> reasons;
  const TimeWindow w = *judging.window(statement.window, &reasons);
  v.expected = words + " " + format_window(w);
  const Outcome out = judging.condition(cond, w);
  v.status = out.status;
  const std::string win = format_window(w);
  const bool single = out.leaves.size() == 1 && out.leaves.front().text == condition_text;
  std::vector<std::string> details;
  switch (out.status) {
    case VerdictStatus::kPass:
      for (const auto& leaf : out.leaves) {
        details.push_back(single ? "observed " + leaf.observed
                                 : leaf.text + ": observed " + leaf.observed);
      }
      v.message = condition_text + " held " + win + ": " + join(details, "; ");
      break;
    case VerdictStatus::kFail:
      if (single) {
        v.message =
            "expected " + condition_text + " " + win + ", observed " + out.leaves.front().observed;
      } else {
        for (const auto& leaf : out.leaves) {
          details.push_back(leaf.text + " failed: observed " + leaf.observed);
        }
        v.message = "expected " + condition_text + " " + win + "; " + join(details, "; ");
      }
      break;
    case VerdictStatus::kInconclusive:
      for (const auto& leaf : out.leaves) append_unique(&details, leaf.reasons);
      v.message = "cannot judge " + condition_text + " " + win + ": " + join(details, "; ");
      break;
  }
  v.message = with_notes(std::move(v.message), judging.notes());
  return v;
}

}  // namespace

const char* to_string(VerdictStatus status) {
  switch (status) {
    case VerdictStatus::kPass:
      return "pass";
    case VerdictStatus::kFail:
      return "fail";
    case VerdictStatus::kInconclusive:
      return "inconclusive";
  }
  return "?";
}

ResolvedWindow resolve_window(const dsl::Window& window, const std::vector<PhaseWindow>& phases,
                              std::optional<Duration> now) {
  ResolvedWindow r;
  if (phases.empty()) {
    r.note = "the plan has no phases";
    return r;
  }
  TimeWindow t;
  t.label = dsl::to_string(window);
  const PhaseWindow* phase = nullptr;
  if (window.kind == dsl::Window::Kind::kOverall) {
    t.start = phases.front().start;
    t.end = phases.back().end;
  } else {
    const auto it = std::find_if(phases.begin(), phases.end(),
                                 [&](const PhaseWindow& p) { return p.name == window.phase; });
    if (it == phases.end()) {
      r.note = "unknown phase '" + window.phase + "'";
      return r;
    }
    phase = &*it;
    t.start = phase->start;
    t.end = phase->end;
    if (window.kind == dsl::Window::Kind::kAfter) {
      t.start = phase->start + (phase->end - phase->start) / 2;
    } else if (window.kind == dsl::Window::Kind::kDuringLast) {
      t.start = std::max(phase->start, phase->end - window.last);
      if (window.last > phase->length()) {
        r.note = "last " + format_duration(window.last) + " clamped to the phase's " +
                 format_duration(phase->length());
      }
    }
  }
  if (now) {
    // Live, `last D` slides with now, so it starts with its phase.
    const bool sliding = window.kind == dsl::Window::Kind::kDuringLast;
    if (*now <= (sliding ? phase->start : t.start)) {
      r.note = t.label + " has not started yet";
      return r;
    }
    t.end = std::min(t.end, *now);
    if (sliding) t.start = std::max(phase->start, t.end - window.last);
  }
  r.window = t;
  return r;
}

std::vector<TimeWindow> windows_read(const dsl::Statement& statement,
                                     const std::vector<PhaseWindow>& phases,
                                     const JudgeOptions& options) {
  // Judging reads every operand whatever the outcome, so judging against a source that
  // knows nothing visits every window.
  class NoData : public MetricSource {
   public:
    Observed client(const TimeWindow&, const ClientQuery&) const override { return {}; }
    Observed server(const TimeWindow&, const ServerQuery&) const override { return {}; }
  } none;
  if (statement.gate) return evaluate_gate(statement, phases, none, none, options).verdict.windows;
  return evaluate(statement, phases, none, options).windows;
}

Verdict evaluate(const dsl::Statement& statement, const std::vector<PhaseWindow>& phases,
                 const MetricSource& source, const JudgeOptions& options) {
  return *judge_condition(statement, phases, std::nullopt, source, options);
}

std::optional<Verdict> evaluate_abort_if(const dsl::Statement& statement,
                                         const std::vector<PhaseWindow>& phases, Duration now,
                                         const MetricSource& source, const JudgeOptions& options) {
  return judge_condition(statement, phases, now, source, options);
}

GateVerdict evaluate_gate(const dsl::Statement& statement, const std::vector<PhaseWindow>& phases,
                          const MetricSource& baseline, const MetricSource& candidate,
                          const JudgeOptions& options) {
  if (!statement.gate) throw std::invalid_argument("evaluate_gate: not a compare gate");
  const dsl::Gate& gate = *statement.gate;
  GateVerdict g;
  Verdict& v = g.verdict;
  v.statement = dsl::to_string(statement);
  g.higher_is_better =
      gate.value.kind == ValueExpr::Kind::kMetric && dsl::higher_is_better(gate.value.metric);
  const bool improves = gate.direction == dsl::Gate::Direction::kImproves;
  const std::string what = dsl::to_string(gate.value);
  const std::string text = what + " " + dsl::to_string(gate.direction) + " by " +
                           dsl::to_string(gate.op) + " " + gate.threshold.text;
  const std::string words = what + " to " + (improves ? "improve" : "regress") + " by " +
                            op_words(gate.op) + " " + gate.threshold.text +
                            " from baseline to candidate";

  Judging base(phases, baseline, options, std::nullopt, "baseline", &v);
  Judging cand(phases, candidate, options, std::nullopt, "candidate", &v);
  std::vector<std::string> reasons;
  const auto w = base.window(statement.window, &reasons);
  if (!w) {
    v.expected = words + " " + dsl::to_string(statement.window);
    v.message = "cannot judge " + v.statement + ": " + join(reasons, "; ");
    return g;
  }
  const std::string win = format_window(*w);
  v.expected = words + " " + win;
  const Reading b = base.value(gate.value, *w);
  const size_t mid = v.operands.size();
  const Reading c = cand.value(gate.value, *w);
  if (!b.value || !c.value) {
    append_unique(&reasons, b.reasons);
    append_unique(&reasons, c.reasons);
    v.message = "cannot judge " + text + " " + win + ": " + join(reasons, "; ");
    return g;
  }
  double improvement = 0;
  if (*b.value != 0) {
    improvement =
        (g.higher_is_better ? *c.value - *b.value : *b.value - *c.value) / std::fabs(*b.value);
  } else if (*c.value != *b.value) {
    const bool better = g.higher_is_better ? *c.value > 0 : *c.value < 0;
    improvement = better ? INFINITY : -INFINITY;
  }
  g.improvement = improvement;
  const double measured = improves ? improvement : -improvement;
  v.status =
      holds(measured, gate.op, gate.threshold.value) ? VerdictStatus::kPass : VerdictStatus::kFail;
  const bool alone = gate.value.kind == ValueExpr::Kind::kMetric;
  std::string change;
  if (std::isinf(improvement)) {
    change = std::string(improvement > 0 ? "improved" : "regressed") + " from a baseline of 0";
  } else {
    change = improvement >= 0
                 ? "improved by " + format_value(improvement, dsl::ValueType::kFraction)
                 : "regressed by " + format_value(-improvement, dsl::ValueType::kFraction);
  }
  const std::string observed =
      "baseline " + base.describe_reads(0, mid, *w, alone) + ", candidate " +
      cand.describe_reads(mid, v.operands.size(), *w, alone) + ": " + change + " (" +
      (g.higher_is_better ? "higher" : "lower") + " is better)";
  v.message = v.status == VerdictStatus::kPass
                  ? text + " held " + win + ": " + observed
                  : "expected " + text + " " + win + ", observed " + observed;
  std::vector<std::string> notes = base.notes();
  append_unique(&notes, cand.notes());
  v.message = with_notes(std::move(v.message), notes);
  return g;
}

}  // namespace faultline::judge
