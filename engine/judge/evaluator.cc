#include "judge/evaluator.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <stdexcept>
#include <tuple>
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
      case Condition::Kind::kAlert:
        return alert(c, w);
    }
    return {};
  }

  // An alert's state over the window (dsl/ast.h: AlertState). The reads are recorded as one
  // operand, valued 1 when the alert fired in the window and 0 when it did not.
  Outcome alert(const Condition& c, const TimeWindow& w) {
    Leaf leaf{dsl::to_string(c), "", {}};
    const AlertReads reads = source_.alert(w, c.alert);
    ObservedOperand op;
    op.run = run_;
    op.window = w;
    op.what = "alert(" + dsl::format_name(c.alert) + ")";
    op.sample_noun = "reads";
    op.observed.sample_count = static_cast<int64_t>(reads.firing.size());
    op.observed.failures = reads.failures;
    if (reads.firing.empty()) {
      op.value_text = "no value";
      op.observed.note = reads.note;
      std::string why = reads.note;
      if (!reads.failures.empty()) why += (why.empty() ? "" : "; ") + reads.failures;
      leaf.reasons.push_back("no reads of " + op.what + " in " + format_window(w) +
                             (why.empty() ? "" : ": " + why));
      verdict_->operands.push_back(std::move(op));
      return {VerdictStatus::kInconclusive, {leaf}};
    }
    std::optional<Duration> first_firing;
    for (const auto& [at, firing] : reads.firing)
      if (firing && !first_firing) first_firing = at;
    const bool firing_at_end = reads.firing.back().second;
    op.observed.value = first_firing ? 1.0 : 0.0;
    const std::string count = " (" + std::to_string(reads.firing.size()) + " reads)";
    const auto since_start = [&](Duration at) { return format_duration(at - w.start); };
    bool ok = false;
    switch (c.alert_state) {
      case dsl::AlertState::kFires:
        ok = first_firing && (!c.alert_within || *first_firing - w.start <= *c.alert_within);
        leaf.observed =
            first_firing ? "first firing " + since_start(*first_firing) + " into the window" + count
                         : "never firing in the window" + count;
        break;
      case dsl::AlertState::kNeverFires:
        ok = !first_firing;
        leaf.observed = first_firing
                            ? "firing " + since_start(*first_firing) + " into the window" + count
                            : "never firing" + count;
        break;
      case dsl::AlertState::kResolved:
        ok = !firing_at_end;
        leaf.observed = std::string(firing_at_end ? "still firing" : "not firing") +
                        " at the window's last read, " + since_start(reads.firing.back().first) +
                        " into it" + count;
        break;
    }
    op.value_text = leaf.observed;
    if (!reads.failures.empty()) append_unique(&notes_, {op.what + ": " + reads.failures});
    verdict_->operands.push_back(std::move(op));
    return {ok ? VerdictStatus::kPass : VerdictStatus::kFail, {leaf}};
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
      if (std::find(chosen_.begin(), chosen_.end(), op.window) != chosen_.end()) {
        part += " in " + op.window.label;
      } else if (!(op.window == w)) {
        part += " in " + format_window(op.window);
      }
      parts.push_back(std::move(part));
    }
    return join(parts, ", ");
  }

  const std::vector<std::string>& notes() const { return notes_; }

  // Recovery judging: where a metric without a window of its own is read at the current
  // point, instead of the statement's window. Returns false with *reason set when it has no
  // value there yet. The chosen window's label names it in full ("after(trigger) bucket
  // [35s..36s)").
  using PointWindow = std::function<bool(const MetricRef&, TimeWindow*, std::string* reason)>;
  void read_at(PointWindow point_window) { point_window_ = std::move(point_window); }

 private:
  Reading metric(const MetricRef& m, const TimeWindow& statement_window) {
    Reading r;
    TimeWindow w = statement_window;
    if (m.window) {
      const auto own = window(*m.window, &r.reasons);
      if (!own) return r;
      w = *own;
    } else if (point_window_) {
      std::string reason;
      if (!point_window_(m, &w, &reason)) {
        r.reasons.push_back("no value for " + dsl::to_string(m) + " " + reason);
        return r;
      }
      chosen_.push_back(w);
    }
    // Where the value was read, for reasons: a chosen window's label names it in full.
    const std::string where = point_window_ && !m.window ? w.label : format_window(w);
    ObservedOperand op;
    op.run = run_;
    op.window = w;
    op.type = dsl::metric_type(m);
    std::string of;  // " for p95(route=orders)": names the population when it is not all
    if (m.side == MetricRef::Side::kRunFact) {
      op.what = dsl::to_string(m.fact);
      op.observed = source_.run_fact(m.fact);
      op.sample_noun = m.fact.source == "history" ? "ids" : "hook output";
      op.required_samples = 0;  // the traffic guard is about windows; a fact is exact
    } else if (m.side == MetricRef::Side::kClient) {
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
      r.reasons.push_back(prefix + "no value for " + op.what + " in " + where +
                          (why.empty() ? "" : ": " + why));
    } else {
      op.value_text = format_value(*o.value, op.type);
      if (op.below_guard()) {
        // Failed scrapes, not too little traffic, are then why the value rests on so little.
        r.reasons.push_back(
            prefix + "only " + std::to_string(o.sample_count) + " " + op.sample_noun + of + " in " +
            where + ", need >= " + std::to_string(op.required_samples) + ": " +
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
  PointWindow point_window_;
  std::vector<TimeWindow> chosen_;  // windows point_window_ gave
};

// The relation in words: "p95(route=orders) above 800ms and error_rate below 2%".
std::string expected_words(const Condition& c, const JudgeOptions& options,
                           const std::string& baseline) {
  switch (c.kind) {
    case Condition::Kind::kCompare:
      return dsl::to_string(c.values[0]) + " " + op_words(c.op) + " " + dsl::to_string(c.values[1]);
    case Condition::Kind::kAlert:
      switch (c.alert_state) {
        case dsl::AlertState::kFires:
          return "alert " + c.alert + " firing" +
                 (c.alert_within ? " within " + format_duration(*c.alert_within) + " of its start"
                                 : "");
        case dsl::AlertState::kNeverFires:
          return "alert " + c.alert + " never firing";
        case dsl::AlertState::kResolved:
          return "alert " + c.alert + " not firing at its end";
      }
      return "";
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

// Answers each question once: recovery judging asks for the same bucket, scrape or
// cross-window value at many points.
class CachedSource : public MetricSource {
 public:
  explicit CachedSource(const MetricSource& inner) : inner_(inner) {}
  Observed client(const TimeWindow& w, const ClientQuery& q) const override {
    return lookup(0, dsl::to_string(q), w, [&] { return inner_.client(w, q); });
  }
  Observed server(const TimeWindow& w, const ServerQuery& q) const override {
    return lookup(1, dsl::to_string(q), w, [&] { return inner_.server(w, q); });
  }

 private:
  template <typename Ask>
  Observed lookup(int side, std::string query, const TimeWindow& w, Ask ask) const {
    auto key = std::make_tuple(side, std::move(query), w.start.count(), w.end.count());
    auto it = cache_.find(key);
    if (it == cache_.end()) it = cache_.emplace(std::move(key), ask()).first;
    return it->second;
  }
  const MetricSource& inner_;
  mutable std::map<std::tuple<int, std::string, int64_t, int64_t>, Observed> cache_;
};

// Whether `c` reads a metric of `side` in the statement's window (not one of its own).
bool reads_side(const ValueExpr& v, MetricRef::Side side) {
  if (v.kind == ValueExpr::Kind::kMetric) return !v.metric.window && v.metric.side == side;
  return std::any_of(v.operands.begin(), v.operands.end(),
                     [&](const ValueExpr& operand) { return reads_side(operand, side); });
}
bool reads_side(const Condition& c, MetricRef::Side side) {
  return std::any_of(c.values.begin(), c.values.end(),
                     [&](const ValueExpr& v) { return reads_side(v, side); }) ||
         std::any_of(c.operands.begin(), c.operands.end(),
                     [&](const Condition& operand) { return reads_side(operand, side); });
}

// The routes a condition's client metrics select (route=...), in any order.
void selected_routes(const ValueExpr& v, std::vector<std::string>& out) {
  if (v.kind == ValueExpr::Kind::kMetric && v.metric.side == MetricRef::Side::kClient &&
      !v.metric.window)
    for (const auto& [key, value] : v.metric.client.selectors)
      if (key == "route") out.push_back(value);
  for (const auto& operand : v.operands) selected_routes(operand, out);
}
void selected_routes(const Condition& c, std::vector<std::string>& out) {
  for (const auto& v : c.values) selected_routes(v, out);
  for (const auto& operand : c.operands) selected_routes(operand, out);
}

// Whole seconds in which the plan sends twice guard.min_requests of the routes `c` selects
// (all traffic when it selects none), at the lower rate of the phase the window starts in; 0
// when that is not known.
Duration guard_bucket(const TimeWindow& window, const Condition& c, const JudgeOptions& o) {
  const auto phase = std::find_if(o.phases.begin(), o.phases.end(), [&](const PhaseWindow& p) {
    return window.start >= p.start && window.start < p.end;
  });
  if (phase == o.phases.end() || o.guard.min_requests <= 0) return Duration{0};
  std::vector<std::string> routes;
  selected_routes(c, routes);
  double share = 1.0;
  for (const auto& r : routes) {
    auto it = o.route_share.find(r);
    if (it != o.route_share.end()) share = std::min(share, it->second);
  }
  const double per_second = std::min(phase->rate_from, phase->rate_to) * share;
  if (!(per_second > 0)) return Duration{0};
  const double seconds = std::ceil(2.0 * static_cast<double>(o.guard.min_requests) / per_second);
  return std::chrono::seconds(static_cast<int64_t>(std::min(seconds, 3600.0)));
}

std::string seconds_text(Duration d) {
  return format_value(static_cast<double>(d.count()) / 1e6, dsl::ValueType::kDuration);
}

// The timeline of a recovery statement (see evaluator.h): where each metric is read at a
// point, and the points.
class RecoveryTimeline {
 public:
  RecoveryTimeline(const TimeWindow& window, const Condition& c, const JudgeOptions& options)
      : window_(window), ticks_(options.scrape_ticks) {
    const Duration span = window.end - window.start;
    Duration bucket = std::max(kRecoveryBucket, guard_bucket(window, c, options));
    if (span > kRecoveryBucket * kMaxRecoveryBuckets) {
      const int64_t per_bucket = (span.count() + kMaxRecoveryBuckets - 1) / kMaxRecoveryBuckets;
      const int64_t second = kRecoveryBucket.count();
      bucket = Duration{(per_bucket + second - 1) / second * second};
    }
    std::vector<Duration> points;
    if (reads_side(c, MetricRef::Side::kClient)) {
      for (Duration t = window.start + bucket; t < window.end; t += bucket) {
        bucket_ends_.push_back(t);
      }
      if (span > Duration{0}) bucket_ends_.push_back(window.end);
      points = bucket_ends_;
    }
    if (reads_side(c, MetricRef::Side::kServer)) {
      if (ticks_.empty()) missing_ = "the scrape times are not known";
      for (const Duration t : ticks_) {
        if (t > window.start && t <= window.end) points.push_back(t);
      }
    }
    std::sort(points.begin(), points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());
    points_ = std::move(points);
  }

  const std::vector<Duration>& points() const { return points_; }
  // Why the timeline cannot be judged at all; "" when it can.
  const std::string& missing() const { return missing_; }

  // Where `m` is read at point `t`.
  bool read_window(const MetricRef& m, Duration t, TimeWindow* out, std::string* reason) const {
    const std::string& label = window_.label;
    if (m.side == MetricRef::Side::kClient) {
      const auto end = std::upper_bound(bucket_ends_.begin(), bucket_ends_.end(), t);
      if (end == bucket_ends_.begin()) {
        *reason = "at " + format_duration(t) + ": its first bucket has not ended";
        return false;
      }
      const Duration b_end = *(end - 1);
      const Duration b_start = end - 1 == bucket_ends_.begin() ? window_.start : *(end - 2);
      *out = {b_start, b_end,
              label + " bucket [" + format_duration(b_start) + ".." + format_duration(b_end) + ")"};
      return true;
    }
    const auto after = std::upper_bound(ticks_.begin(), ticks_.end(), t);
    if (after == ticks_.begin() || *(after - 1) <= window_.start) {
      *reason = "at " + format_duration(t) + ": no scrape yet";
      return false;
    }
    const Duration tick = *(after - 1);
    if (dsl::server_function_kind(m.server.function) == dsl::ServerFunctionKind::kGauge) {
      // The gauge's value in the scrape at `tick`: the scrapes in [tick, tick + 1us).
      *out = {tick, tick + Duration{1}, label + " scrape at " + format_duration(tick)};
      return true;
    }
    // Counters and histograms: what happened between the scrape before and this one.
    const Duration before = after - 1 == ticks_.begin() ? window_.start : *(after - 2);
    *out = {before, tick,
            label + " scrapes (" + format_duration(before) + ".." + format_duration(tick) + "]"};
    return true;
  }

 private:
  TimeWindow window_;
  const std::vector<Duration>& ticks_;
  std::vector<Duration> bucket_ends_;
  std::vector<Duration> points_;
  std::string missing_;
};

// One point of a recovery timeline, judged.
struct PointOutcome {
  Outcome outcome;
  std::vector<std::string> notes;
};

PointOutcome judge_point(const Condition& c, const TimeWindow& w, const RecoveryTimeline& timeline,
                         Duration t, const std::vector<PhaseWindow>& phases,
                         const MetricSource& source, const JudgeOptions& options,
                         Verdict* verdict) {
  Judging judging(phases, source, options, std::nullopt, "", verdict);
  judging.read_at([&](const MetricRef& m, TimeWindow* out, std::string* reason) {
    return timeline.read_window(m, t, out, reason);
  });
  PointOutcome p;
  p.outcome = judging.condition(c, w);
  p.notes = judging.notes();
  return p;
}

// What the leaves of a point's outcome observed, for a message: "observed 412ms over 50
// requests in ..." for a single comparison, else "p95 < 300ms: observed ...; ...".
std::string observed_at(const Outcome& out, const std::string& condition_text, bool* single) {
  std::vector<std::string> parts;
  *single = out.leaves.size() == 1 && out.leaves.front().text == condition_text;
  for (const auto& leaf : out.leaves) {
    const std::string seen = leaf.observed.empty() ? join(leaf.reasons, "; ") : leaf.observed;
    parts.push_back(*single ? "observed " + seen : leaf.text + ": observed " + seen);
  }
  return join(parts, "; ");
}

Verdict judge_recovery(const dsl::Statement& statement, const std::vector<PhaseWindow>& phases,
                       const MetricSource& uncached, const JudgeOptions& options,
                       const std::string& words) {
  const Condition& cond = *statement.condition;
  const Duration limit = statement.recovery->limit;
  const std::string limit_text = format_duration(limit);
  const std::string condition_text = dsl::to_string(cond);
  Verdict v;
  v.statement = dsl::to_string(statement);
  const ResolvedWindow resolved = resolve_recovery_window(statement.window, phases);
  if (!resolved.window) {
    v.expected = words + " within " + limit_text + " " + dsl::to_string(statement.window);
    v.message = "cannot judge " + v.statement + ": " + resolved.note;
    return v;
  }
  const TimeWindow w = *resolved.window;
  const std::string win = format_window(w);
  const std::string& phase = statement.window.phase;
  const std::string ended = " after " + dsl::format_name(phase) + " ended";
  v.windows.push_back(w);
  v.expected = words + " from at most " + limit_text + " after " + dsl::format_name(phase) +
               " ends to the end of " + win;

  const CachedSource source(uncached);
  const RecoveryTimeline timeline(w, cond, options);
  const std::vector<Duration>& points = timeline.points();
  std::vector<VerdictStatus> status;
  std::vector<std::vector<std::string>> reasons;
  for (const Duration t : points) {
    Verdict scratch;
    const PointOutcome p = judge_point(cond, w, timeline, t, phases, source, options, &scratch);
    status.push_back(p.outcome.status);
    std::vector<std::string> why;
    for (const auto& leaf : p.outcome.leaves) append_unique(&why, leaf.reasons);
    reasons.push_back(std::move(why));
  }
  const size_t n = points.size();
  const auto rel = [&](size_t i) { return seconds_text(points[i] - w.start); };

  // The final run of holding points starts at `tail` (n: the last point does not hold).
  size_t tail = n;
  while (tail > 0 && status[tail - 1] == VerdictStatus::kPass) --tail;
  ObservedOperand time;
  time.what = "recovery time";
  time.window = w;
  time.type = dsl::ValueType::kDuration;
  time.sample_noun = "points";
  time.observed.sample_count = static_cast<int64_t>(n);
  time.observed.note = "limit " + limit_text;
  if (tail < n) time.observed.value = static_cast<double>((points[tail] - w.start).count()) / 1e6;
  time.value_text = tail < n ? rel(tail) : "not recovered";
  v.operands.push_back(time);

  std::vector<std::string> notes;
  if (limit > w.end - w.start) {
    notes.push_back("within " + limit_text + " is longer than " + win +
                    ": judged as recovered by its end");
  }
  // m: the last point at or before the deadline.
  const auto deadline_end = std::upper_bound(points.begin(), points.end(), w.start + limit);
  if (!timeline.missing().empty() || n == 0 || deadline_end == points.begin()) {
    std::string why = !timeline.missing().empty() ? timeline.missing()
                      : n == 0                    ? "no point to judge in it"
                               : "no point to judge by " + limit_text + ended + ": the first is " +
                                     rel(0) + ended;
    v.message = with_notes(
        "cannot judge " + condition_text + " within " + limit_text + " in " + win + ": " + why,
        notes);
    return v;
  }
  const size_t m = static_cast<size_t>(deadline_end - points.begin()) - 1;
  size_t fail = n;
  size_t unknown = n;
  size_t unknown_count = 0;
  for (size_t i = m; i < n; ++i) {
    if (status[i] == VerdictStatus::kFail && fail == n) fail = i;
    if (status[i] == VerdictStatus::kInconclusive) {
      if (unknown == n) unknown = i;
      ++unknown_count;
    }
  }
  v.status = fail < n             ? VerdictStatus::kFail
             : unknown_count == 0 ? VerdictStatus::kPass
                                  : VerdictStatus::kInconclusive;
  const size_t evidence = v.status == VerdictStatus::kPass   ? tail
                          : v.status == VerdictStatus::kFail ? fail
                                                             : unknown;
  const PointOutcome seen =
      judge_point(cond, w, timeline, points[evidence], phases, source, options, &v);
  append_unique(&notes, seen.notes);
  bool single = false;
  const std::string observed = observed_at(seen.outcome, condition_text, &single);
  switch (v.status) {
    case VerdictStatus::kPass:
      v.message = condition_text + " recovered after " + rel(tail) + " (limit " + limit_text +
                  ") and held to the end of " + win + ": at " + rel(tail) + (single ? " " : ": ") +
                  observed;
      break;
    case VerdictStatus::kFail: {
      // The run of holding points just before the failure, if any: "broke again".
      size_t run = fail;
      while (run > 0 && status[run - 1] == VerdictStatus::kPass) --run;
      v.message = "expected " + condition_text + " within " + limit_text + ended +
                  " and to the end of " + win + "; ";
      v.message += run < fail ? "recovered after " + rel(run) + " but broke again at " + rel(fail) +
                                    ended + ": " + observed
                              : "still not recovered at " + rel(fail) + ended + ": " + observed;
      if (tail < n) {
        v.message += "; recovered for good only after " + rel(tail);
      } else if (fail + 1 < n) {
        v.message += "; not recovered by the end (" + rel(n - 1) + ")";
      }
      break;
    }
    case VerdictStatus::kInconclusive: {
      std::vector<std::string> why;
      for (size_t i = m; i < n && why.size() < 3; ++i) append_unique(&why, reasons[i]);
      v.message = "cannot judge " + condition_text + " within " + limit_text + " in " + win + ": " +
                  std::to_string(unknown_count) + " of the " + std::to_string(n - m) +
                  " points from " + rel(m) + ended + " on have no verdict; " + join(why, "; ");
      break;
    }
  }
  v.message = with_notes(std::move(v.message), notes);
  return v;
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

  if (statement.recovery) {
    if (!now) return judge_recovery(statement, phases, source, options, words);
    v.expected = words + " within " + format_duration(statement.recovery->limit) + " " +
                 dsl::to_string(statement.window);
    v.message = "cannot judge " + v.statement +
                " live: a recovery time is judged over the whole window, after the run";
    return v;
  }
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

JudgeOptions judge_options(const Plan& plan) {
  JudgeOptions o{plan.tolerance, plan.guard, plan.scrape_ticks};
  o.phases = plan.phases;
  double total = 0;
  for (const auto& r : plan.routes) total += r.weight;
  for (const auto& r : plan.routes)
    if (total > 0) o.route_share[r.name] = r.weight / total;
  return o;
}

ResolvedWindow resolve_recovery_window(const dsl::Window& window,
                                       const std::vector<PhaseWindow>& phases) {
  ResolvedWindow r;
  if (window.kind != dsl::Window::Kind::kAfter) {
    r.note = "'within' needs an after(PHASE) window, not " + dsl::to_string(window);
    return r;
  }
  const auto it = std::find_if(phases.begin(), phases.end(),
                               [&](const PhaseWindow& p) { return p.name == window.phase; });
  if (it == phases.end()) {
    r.note = "unknown phase '" + window.phase + "'";
    return r;
  }
  if (it + 1 == phases.end()) {
    r.note = "no phase follows '" + window.phase + "' to recover in";
    return r;
  }
  r.window = TimeWindow{it->end, (it + 1)->end, dsl::to_string(window)};
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
