#include "compare/comparison.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/error.h"
#include "common/rng.h"
#include "compare/sample_selection.h"
#include "dsl/check.h"
#include "dsl/parser.h"
#include "dsl/printer.h"
#include "dsl/types.h"
#include "dsl/vocabulary.h"
#include "judge/evaluator.h"
#include "judge/value_format.h"
#include "observe/gz_file.h"
#include "recorded/bundle.h"

namespace faultline::compare {

namespace {

using judge::TimeWindow;
using judge::VerdictStatus;

judge::JudgeOptions judge_options(const Plan& a, const Plan& b) {
  // The stricter guard of the two: a gate must rest on enough requests in both runs.
  judge::JudgeOptions o{a.tolerance, a.guard};
  o.guard.min_requests = std::max(a.guard.min_requests, b.guard.min_requests);
  o.guard.min_histogram_count = std::max(a.guard.min_histogram_count, b.guard.min_histogram_count);
  return o;
}

void server_metrics_of(const dsl::ValueExpr& v, std::vector<std::string>& out) {
  if (v.kind == dsl::ValueExpr::Kind::kMetric && v.metric.side == dsl::MetricRef::Side::kServer)
    out.push_back(v.metric.server.metric_name);
  for (const auto& operand : v.operands) server_metrics_of(operand, out);
}

// The observations of a run, prepared for every window its assertions and the gates read
// (recorded_observations prepares the assertions' windows only).
std::unique_ptr<RunObservations> observations_for(const RecordedRun& run,
                                                  const std::vector<GateSource>& gates,
                                                  const judge::JudgeOptions& options,
                                                  std::string* note) {
  std::vector<TimeWindow> windows = judging_windows(run.plan);
  std::set<std::pair<int64_t, int64_t>> known;
  for (const auto& w : windows) known.insert({w.start.count(), w.end.count()});
  std::vector<std::string> metrics = run.plan.metrics_of_interest;
  for (const auto& g : gates) {
    for (TimeWindow w : judge::windows_read(g.statement, run.plan.phases, options)) {
      if (!known.insert({w.start.count(), w.end.count()}).second) continue;
      w.label = window_key(w);
      windows.push_back(w);
    }
    // Scrapes are stored for the metrics of interest only; a gate may read another.
    if (!metrics.empty()) server_metrics_of(g.statement.gate->value, metrics);
  }
  auto obs = std::make_unique<RunObservations>(run.plan, std::move(windows), std::move(metrics));
  *note = obs->load_recorded(run.bundle_dir);
  return obs;
}

void windows_of(const dsl::ValueExpr& v, std::vector<dsl::Window>& out) {
  if (v.kind == dsl::ValueExpr::Kind::kMetric && v.metric.window) out.push_back(*v.metric.window);
  for (const auto& operand : v.operands) windows_of(operand, out);
}

// Answers the judge's queries, made over the baseline plan's windows, from the candidate's
// windows of the same DSL text resolved on its own phases, for plans whose phases differ.
class CandidateWindows : public judge::MetricSource {
 public:
  CandidateWindows(const judge::MetricSource& inner, const Plan& plan,
                   const std::vector<GateSource>& gates)
      : inner_(inner) {
    for (const auto& g : gates) {
      std::vector<dsl::Window> windows{g.statement.window};
      windows_of(g.statement.gate->value, windows);
      for (const auto& w : windows) {
        const judge::ResolvedWindow r = judge::resolve_window(w, plan.phases);
        windows_[dsl::to_string(w)] =
            r.window ? Mapped{r.window, ""} : Mapped{std::nullopt, "candidate: " + r.note};
      }
    }
  }

  judge::Observed client(const TimeWindow& w, const judge::ClientQuery& q) const override {
    const Mapped& m = map(w);
    return m.window ? inner_.client(*m.window, q) : judge::Observed{std::nullopt, 0, m.why};
  }
  judge::Observed server(const TimeWindow& w, const judge::ServerQuery& q) const override {
    const Mapped& m = map(w);
    return m.window ? inner_.server(*m.window, q) : judge::Observed{std::nullopt, 0, m.why};
  }

 private:
  struct Mapped {
    std::optional<TimeWindow> window;
    std::string why;
  };
  const Mapped& map(const TimeWindow& w) const {
    static const Mapped kUnknown{std::nullopt, "window not in the candidate's plan"};
    const auto it = windows_.find(w.label);
    return it == windows_.end() ? kUnknown : it->second;
  }

  const judge::MetricSource& inner_;
  std::map<std::string, Mapped> windows_;  // by canonical window text (TimeWindow::label)
};

bool same_phases(const Plan& a, const Plan& b) {
  return std::equal(a.phases.begin(), a.phases.end(), b.phases.begin(), b.phases.end(),
                    [](const PhaseWindow& x, const PhaseWindow& y) {
                      return x.name == y.name && x.start == y.start && x.end == y.end;
                    });
}

ValueRead read_of(const judge::ObservedOperand& op) {
  ValueRead r;
  r.samples = op.observed.sample_count;
  if (!op.sample_noun.empty()) r.noun = op.sample_noun;
  r.note = op.observed.note;
  if (op.observed.value) {
    r.value = op.observed.value;
    r.text = judge::format_value(*op.observed.value, op.type);
  } else {
    r.text = "no value";
  }
  return r;
}

ValueRead read_of(const judge::Observed& o, dsl::ValueType type) {
  judge::ObservedOperand op;
  op.observed = o;
  op.type = type;
  return read_of(op);
}

Significance significance_of(const ChangeEstimate& e) {
  if (e.significant_improvement()) return Significance::kImprovement;
  if (e.significant_regression()) return Significance::kRegression;
  return Significance::kNoChange;
}

std::string percent(double fraction) {
  return judge::format_change(fraction);
}

std::string interval_text(const ChangeEstimate& e) {
  return judge::format_value(e.confidence * 100, dsl::ValueType::kNumber) + "% interval " +
         percent(e.low) + " .. " + percent(e.high) + " (" + std::to_string(e.resamples) +
         " resamples)";
}

// Raw samples of both runs for the bootstrap: what each question needs from each bundle.
struct SampleRequests {
  std::vector<SampleSelection> baseline, candidate;
  size_t add(SampleSelection b, SampleSelection c) {
    baseline.push_back(std::move(b));
    candidate.push_back(std::move(c));
    return baseline.size() - 1;
  }
};

// The window a gate's single client metric is read over, in one run.
std::optional<TimeWindow> gate_metric_window(const dsl::Statement& s, const Plan& plan) {
  const dsl::MetricRef& m = s.gate->value.metric;
  return judge::resolve_window(m.window ? *m.window : s.window, plan.phases).window;
}

bool is_client_metric(const dsl::Statement& s) {
  const dsl::ValueExpr& v = s.gate->value;
  return v.kind == dsl::ValueExpr::Kind::kMetric && v.metric.side == dsl::MetricRef::Side::kClient;
}

const char* bound_words(dsl::CompareOp op) {
  switch (op) {
    case dsl::CompareOp::kGt:
      return "more than";
    case dsl::CompareOp::kGe:
      return "at least";
    case dsl::CompareOp::kLt:
      return "less than";
    default:
      return "at most";
  }
}

// "improved by 86%", "regressed by 3.1%", "unchanged", "regressed from a baseline of 0".
std::string change_words(double improvement) {
  if (improvement == 0) return "unchanged";
  const char* verb = improvement > 0 ? "improved" : "regressed";
  if (std::isinf(improvement)) return std::string(verb) + " from a baseline of 0";
  return std::string(verb) + " by " +
         judge::format_value(std::fabs(improvement), dsl::ValueType::kFraction);
}

// "baseline 1.51s over 80 requests, candidate 212ms over 81 requests in during(trigger)
// [15s..40s): improved by 86%"
std::string observed_words(const MetricComparison& m) {
  auto read = [](const ValueRead& r) {
    return r.text + " over " + std::to_string(r.samples) + " " + r.noun;
  };
  return "baseline " + read(m.baseline) + ", candidate " + read(m.candidate) + " in " +
         judge::format_window(m.window) + ": " + change_words(*m.improvement);
}

// The verdict of a gate whose values both runs have, from the judge's point verdict and the
// interval (see comparison.h), with the message that explains it.
void decide(const dsl::Gate& gate, GateResult& g) {
  const MetricComparison& m = g.change;
  const bool improves = gate.direction == dsl::Gate::Direction::kImproves;
  const std::string what = improves ? "improvement" : "regression";
  const bool point_ok = g.status == VerdictStatus::kPass;
  const std::string expected = "expected " + std::string(improves ? "an " : "a ") + what + " of " +
                               bound_words(gate.op) + " " + gate.threshold.text;
  g.message = observed_words(m);
  if (!m.interval) {
    g.message += " (" + m.interval_note + "); " + (point_ok ? "passes" : "fails: " + expected);
    return;
  }
  const ChangeEstimate& e = *m.interval;
  g.message += "; " + interval_text(e) + ": " + to_string(m.significance);
  // The interval of the measured quantity: the improvement, or the regression (= -improvement).
  const double low = improves ? e.low : -e.high;
  const double high = improves ? e.high : -e.low;
  if (!point_ok) {
    g.message += "; fails: " + expected;
    return;
  }
  if (gate.op == dsl::CompareOp::kGt || gate.op == dsl::CompareOp::kGe) {
    if (low > 0) {
      g.message += "; passes";
    } else {
      g.status = VerdictStatus::kFail;
      g.message += "; fails: the " + what + " is not significant (its interval reaches 0)";
    }
    return;
  }
  const double x = gate.threshold.value;
  if (gate.op == dsl::CompareOp::kLt ? high < x : high <= x) {
    g.message += high > 0 ? "; passes: the " + what + " is at most " +
                                judge::format_value(high, dsl::ValueType::kFraction) + " at " +
                                judge::format_value(e.confidence * 100, dsl::ValueType::kNumber) +
                                "% confidence"
                          : "; passes: no " + what + " at all at this confidence";
  } else {
    g.status = VerdictStatus::kFail;
    g.message += "; fails: the interval allows a " + what + " of up to " +
                 (std::isinf(high) ? std::string("infinity")
                                   : judge::format_value(high, dsl::ValueType::kFraction)) +
                 ", " + expected;
  }
}

const char* kContextMetrics[] = {"p50", "p95", "p99", "error_rate"};

}  // namespace

const char* to_string(Significance s) {
  switch (s) {
    case Significance::kImprovement:
      return "significant improvement";
    case Significance::kRegression:
      return "significant regression";
    case Significance::kNoChange:
      return "no significant change";
    case Significance::kNotTested:
      return "not tested";
  }
  return "?";
}

bool Comparison::passed() const {
  return !gates.empty() && std::all_of(gates.begin(), gates.end(), [](const GateResult& g) {
    return g.status == VerdictStatus::kPass;
  });
}

std::vector<Diagnostic> check_gate_texts(const std::vector<std::string>& gates, const Plan& plan) {
  dsl::DslContext ctx;
  for (const auto& p : plan.phases) {
    ctx.phases.push_back(p.name);
    ctx.phase_durations[p.name] = p.length();
  }
  for (const auto& r : plan.routes) ctx.routes.push_back(r.name);
  for (const auto& t : plan.scrape_targets) ctx.services.push_back(t.service);
  std::vector<Diagnostic> out;
  for (size_t i = 0; i < gates.size(); ++i) {
    for (const auto& problem :
         dsl::check_statement(gates[i], ctx, dsl::StatementKind::kCompareGate)) {
      Diagnostic d;
      d.loc.file = "--gate";
      d.loc.line = static_cast<int>(i + 1);
      d.loc.column = static_cast<int>(problem.offset + 1);
      d.message = problem.message;
      d.hint = problem.hint;
      d.source_line = gates[i];
      d.length = static_cast<int>(std::max<size_t>(1, problem.length));
      out.push_back(std::move(d));
    }
  }
  return out;
}

std::vector<GateSource> gates_to_judge(const Plan& baseline, const Plan& candidate,
                                       const CompareOptions& options) {
  std::vector<GateSource> out;
  std::set<std::string> seen;
  auto add = [&](const dsl::Statement& gate, const std::string& origin) {
    if (seen.insert(dsl::to_string(gate)).second) out.push_back({gate, origin});
  };
  if (options.use_spec_gates) {
    for (const auto& s : baseline.compare_gates) add(*s.parsed, "spec");
    for (const auto& s : candidate.compare_gates) add(*s.parsed, "spec");
  }
  for (const auto& text : options.gates)
    add(*plan_statement(text, {}, dsl::StatementKind::kCompareGate, "--gate").parsed, "--gate");
  return out;
}

Comparison compare_runs(const RecordedRun& baseline, const RecordedRun& candidate,
                        const CompareOptions& options) {
  Comparison c;
  c.scenario = baseline.scenario.empty() ? baseline.plan.scenario_name : baseline.scenario;
  auto info = [](const RecordedRun& r) {
    return RunInfo{r.artifact_path,  r.tag,       r.status, r.started_at, r.environment_path,
                   r.plan.plan_hash, r.plan.seed, ""};
  };
  c.baseline = info(baseline);
  c.candidate = info(candidate);
  c.plan_differences = diff_plans(baseline.plan, candidate.plan);
  if (!c.plan_differences.empty() && !options.allow_different_plans) {
    std::string list;
    for (const auto& d : c.plan_differences) list += "\n  " + d.str();
    throw UsageError(
        "the two runs ran different plans (baseline plan " + baseline.plan.plan_hash.substr(0, 12) +
        ", candidate plan " + candidate.plan.plan_hash.substr(0, 12) + "), differing in:" + list +
        "\nrun both with the same spec and flags (--seed, --qps, --duration, --set), or pass "
        "--allow-different-plans to compare them anyway");
  }
  const std::vector<GateSource> gates = gates_to_judge(baseline.plan, candidate.plan, options);
  if (gates.empty())
    throw UsageError("nothing to judge: " +
                     std::string(options.use_spec_gates
                                     ? "the plan of '" + c.scenario + "' has no compare: gates"
                                     : "--no-spec-gates leaves only --gate") +
                     " and no --gate was given; add one, e.g. --gate \"during(trigger): p95 "
                     "improves by >= 30%\"");

  c.bootstrap.resamples = options.resamples;
  c.bootstrap.confidence = options.confidence;
  c.bootstrap.seed =
      options.seed ? *options.seed : fnv1a64(baseline.plan.plan_hash + candidate.plan.plan_hash);
  const judge::JudgeOptions jopt = judge_options(baseline.plan, candidate.plan);

  std::unique_ptr<RunObservations> base_obs, cand_obs;
  try {
    base_obs = observations_for(baseline, gates, jopt, &c.baseline.note);
    cand_obs = observations_for(candidate, gates, jopt, &c.candidate.note);
  } catch (const observe::LogFileError& e) {
    throw UsageError(std::string(e.what()) + ": the run's bundle is damaged");
  }
  for (const RunInfo* r : {&c.baseline, &c.candidate})
    if (!r->note.empty()) c.notes.push_back(r->artifact + ": " + r->note);
  for (const RunInfo* r : {&c.baseline, &c.candidate})
    if (r->status != "passed" && r->status != "failed" && r->status != "inconclusive")
      c.notes.push_back(r->artifact + " is a run that ended " + r->status +
                        ": its later windows may be empty");
  const CandidateWindows mapped(*cand_obs, candidate.plan, gates);
  const bool phases_match = same_phases(baseline.plan, candidate.plan);
  const judge::MetricSource& cand_source =
      phases_match ? static_cast<const judge::MetricSource&>(*cand_obs) : mapped;
  if (!phases_match)
    c.notes.push_back(
        "the plans' phases differ: each window is read from the phase of the same "
        "name in each run");

  SampleRequests requests;
  // Phase context: every request of the phase; quantiles ignore the error flag.
  std::vector<std::optional<size_t>> phase_sample;
  for (const auto& p : baseline.plan.phases) {
    PhaseComparison pc;
    pc.name = p.name;
    dsl::Window w;
    w.kind = dsl::Window::Kind::kDuring;
    w.phase = p.name;
    pc.window = *judge::resolve_window(w, baseline.plan.phases).window;
    const auto cw = judge::resolve_window(w, candidate.plan.phases).window;
    for (const char* metric : kContextMetrics) {
      MetricComparison m;
      m.metric = metric;
      m.type = *dsl::client_metric_type(metric);
      m.window = pc.window;
      const judge::ClientQuery q{metric, {}};
      m.baseline = read_of(base_obs->client(pc.window, q), m.type);
      m.candidate = cw ? read_of(cand_obs->client(*cw, q), m.type)
                       : ValueRead{std::nullopt, "no value", 0, "requests", "no such phase"};
      if (m.baseline.value && m.candidate.value)
        m.improvement = relative_improvement(*m.baseline.value, *m.candidate.value, false);
      pc.metrics.push_back(std::move(m));
    }
    const dsl::ClientQuery all{"error_rate", {}};
    phase_sample.push_back(
        cw ? std::optional<size_t>(requests.add(select_requests(pc.window, all, baseline.plan),
                                                select_requests(*cw, all, candidate.plan)))
           : std::nullopt);
    c.phases.push_back(std::move(pc));
  }

  std::vector<std::optional<size_t>> gate_sample;
  for (const auto& gs : gates) {
    const dsl::Statement& s = gs.statement;
    GateResult g;
    g.origin = gs.origin;
    g.phase = s.window.phase;
    g.direction = dsl::to_string(s.gate->direction);
    g.op = dsl::to_string(s.gate->op);
    g.threshold = s.gate->threshold.value;
    g.threshold_text = s.gate->threshold.text;
    const judge::GateVerdict v =
        judge::evaluate_gate(s, baseline.plan.phases, *base_obs, cand_source, jopt);
    g.statement = v.verdict.statement;
    g.status = v.verdict.status;
    g.expected = v.verdict.expected;
    g.message = v.verdict.message;
    MetricComparison& m = g.change;
    m.metric = dsl::to_string(s.gate->value);
    m.type = dsl::value_type(s.gate->value);
    m.higher_is_better = v.higher_is_better;
    m.improvement = v.improvement;
    if (!v.verdict.windows.empty()) m.window = v.verdict.windows.front();
    // Both values, when the gate reads a single metric (operands: baseline then candidate).
    if (v.verdict.operands.size() == 2) {
      m.baseline = read_of(v.verdict.operands[0]);
      m.candidate = read_of(v.verdict.operands[1]);
    }
    std::optional<size_t> sample;
    if (!is_client_metric(s)) {
      m.interval_note = s.gate->value.kind == dsl::ValueExpr::Kind::kMetric
                            ? "no interval (server-side): judged on the point values"
                            : "no interval (computed value): judged on the point values";
    } else if (g.status != VerdictStatus::kInconclusive) {
      const auto bw = gate_metric_window(s, baseline.plan);
      const auto cw = gate_metric_window(s, candidate.plan);
      if (bw && cw) {
        const dsl::ClientQuery& q = s.gate->value.metric.client;
        sample = requests.add(select_requests(*bw, q, baseline.plan),
                              select_requests(*cw, q, candidate.plan));
      }
    }
    gate_sample.push_back(sample);
    c.gates.push_back(std::move(g));
  }

  // One pass over each bundle's samples for every question (a log cut short was noted when
  // the observations were loaded).
  const auto base_samples =
      collect_samples(BundleLayout{baseline.bundle_dir}.samples(), requests.baseline, nullptr);
  const auto cand_samples =
      collect_samples(BundleLayout{candidate.bundle_dir}.samples(), requests.candidate, nullptr);

  for (size_t i = 0; i < c.phases.size(); ++i) {
    if (!phase_sample[i]) continue;
    const RunSample& b = base_samples[*phase_sample[i]];
    const RunSample& k = cand_samples[*phase_sample[i]];
    auto& metrics = c.phases[i].metrics;
    if (b.size() == 0 || k.size() == 0) {
      for (auto& m : metrics) m.interval_note = "no requests in one of the runs";
      continue;
    }
    std::vector<Statistic> stats;
    for (const auto& m : metrics) stats.push_back(*statistic_for_metric(m.metric));
    const auto est = bootstrap_improvements(b, k, stats, c.bootstrap, "phase:" + c.phases[i].name);
    for (size_t j = 0; j < metrics.size(); ++j) {
      metrics[j].interval = est[j];
      metrics[j].significance = significance_of(est[j]);
    }
  }

  for (size_t i = 0; i < c.gates.size(); ++i) {
    GateResult& g = c.gates[i];
    MetricComparison& m = g.change;
    const dsl::Gate& gate = *gates[i].statement.gate;
    if (g.status == VerdictStatus::kInconclusive) {
      if (m.interval_note.empty()) m.interval_note = "no interval: the gate is inconclusive";
      continue;  // the judge's message says why
    }
    if (gate_sample[i]) {
      const RunSample& b = base_samples[*gate_sample[i]];
      const RunSample& k = cand_samples[*gate_sample[i]];
      if (b.size() == 0 || k.size() == 0) {
        g.status = VerdictStatus::kInconclusive;
        m.interval_note = "no raw samples";
        g.message += "; but the bundles hold no raw samples for it (" + std::to_string(b.size()) +
                     " and " + std::to_string(k.size()) + "), so the change cannot be tested";
        continue;
      }
      // The raw selection should be the judge's to the request (count/rps also hold the
      // dropped ones); say so if not, rather than test another population silently.
      if (requests.baseline[*gate_sample[i]].population != SampleSelection::Population::kPlanned &&
          (static_cast<int64_t>(b.size()) != m.baseline.samples ||
           static_cast<int64_t>(k.size()) != m.candidate.samples))
        c.notes.push_back(g.statement + ": the raw samples (" + std::to_string(b.size()) + ", " +
                          std::to_string(k.size()) + " requests) differ from the judge's counts (" +
                          std::to_string(m.baseline.samples) + ", " +
                          std::to_string(m.candidate.samples) + ")");
      const Statistic st = *statistic_for_metric(gate.value.metric.client.metric);
      m.interval = bootstrap_improvements(b, k, {st}, c.bootstrap, "gate:" + g.statement).front();
      m.significance = significance_of(*m.interval);
    }
    if (m.improvement && m.baseline.value && m.candidate.value) {
      decide(gate, g);
    } else {
      g.message += " (" + m.interval_note + ")";
    }
  }
  return c;
}

}  // namespace faultline::compare
