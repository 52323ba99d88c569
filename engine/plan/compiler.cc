#include "plan/compiler.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/error.h"
#include "common/json_out.h"
#include "dsl/parser.h"
#include "plan/plan_json.h"

namespace faultline {

namespace {

// --duration: every phase keeps its share of the total (rounded down to whole milliseconds);
// the last absorbs the rounding.
std::vector<Duration> scaled_durations(const Scenario& s, const PlanOverrides& o) {
  std::vector<Duration> out;
  for (const auto& p : s.phases) out.push_back(p.duration);
  if (!o.duration) return out;
  int64_t spec_total = 0;
  for (const auto& d : out) spec_total += d.count();
  if (o.duration->count() <= 0) throw UsageError("--duration must be positive");
  int64_t assigned = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t us;
    if (i + 1 == out.size()) {
      us = o.duration->count() - assigned;
    } else {
      // Whole milliseconds, so phase bounds read as the user would write them.
      us = static_cast<int64_t>(static_cast<__int128>(out[i].count()) * o.duration->count() /
                                spec_total);
      us -= us % 1000;
    }
    if (us < 1000)
      throw UsageError("--duration " + format_duration(*o.duration) + " leaves phase '" +
                       s.phases[i].name + "' shorter than 1ms; give a longer duration");
    out[i] = Duration{us};
    assigned += us;
  }
  return out;
}

// The state of every fault target, keyed by (kind, target), as canonical JSON objects.
using FaultStates = std::map<std::pair<std::string, std::string>, std::string>;

std::string knobs_state(const std::map<std::string, std::string>& knobs) {
  std::string out = "{";
  for (const auto& [name, value] : knobs) {
    if (out.size() > 1) out += ",";
    out += "\"" + name + "\":" + value;  // knob names are identifiers (schema-checked)
  }
  return out + "}";
}

std::string process_state(const ProcessFault& f) {
  JsonOut j(JsonOut::kCompact);
  j.begin_object();
  j.member("action", f.action);
  if (f.action == "terminate" || f.action == "restart")
    j.member("grace_us", static_cast<int64_t>(f.grace.count()));
  if (f.restart_after) {
    j.member("restart_after_us", static_cast<int64_t>(f.restart_after->count()));
    j.member("restarts", static_cast<int64_t>(f.restarts));
  }
  j.end_object();
  return j.text();
}

std::string proxy_state(const std::map<std::string, const ProxyToxicSpec*>& toxics) {
  JsonOut j(JsonOut::kCompact);
  j.begin_object();
  j.key("toxics").begin_array();
  for (const auto& [name, t] : toxics) {
    j.begin_object();
    j.member("name", t->name);
    j.member("type", t->type);
    j.member("direction", t->direction);
    j.member("toxicity", t->toxicity);
    for (const auto& [attribute, value] : t->attributes) j.member(attribute, value);
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.text();
}

std::string exec_state(const ExecFault& f) {
  JsonOut j(JsonOut::kCompact);
  j.begin_object();
  for (const auto* list : {&f.run, &f.undo}) {
    j.key(list == &f.run ? "run" : "undo").begin_array();
    for (const auto& arg : *list) j.value(arg);
    j.end_array();
  }
  j.member("shell", f.shell);
  j.member("timeout_us", static_cast<int64_t>(f.timeout.count()));
  j.end_object();
  return j.text();
}

// What every target must be while `sets` are on, in order: later settings win (a knob, a
// process target's action, a proxy's toxic of the same name, an exec hook of the same name).
FaultStates fault_states(const std::vector<const FaultProfile*>& sets) {
  std::map<std::string, std::map<std::string, std::string>> knobs;
  std::map<std::string, std::map<std::string, std::string>> levers;
  std::map<std::string, const ProcessFault*> processes;
  std::map<std::string, std::map<std::string, const ProxyToxicSpec*>> proxies;
  std::map<std::string, const ExecFault*> execs;
  for (const FaultProfile* set : sets) {
    for (const auto& k : set->knobs) knobs[k.service][k.knob] = k.value_json;
    for (const auto& l : set->levers) levers[l.service][l.knob] = l.value_json;
    for (const auto& p : set->process) processes[p.service] = &p;
    for (const auto& t : set->proxy) proxies[t.proxy][t.name] = &t;
    for (const auto& e : set->exec) execs[e.name] = &e;
  }
  FaultStates out;
  for (const auto& [service, k] : knobs) out[{"knobs", service}] = knobs_state(k);
  for (const auto& [service, l] : levers) out[{"levers", service}] = knobs_state(l);
  for (const auto& [target, p] : processes) out[{"process", target}] = process_state(*p);
  for (const auto& [proxy, t] : proxies) out[{"proxy", proxy}] = proxy_state(t);
  for (const auto& [name, e] : execs) out[{"exec", name}] = exec_state(*e);
  return out;
}

// The times, from the phase's start, at which `schedule` turns its faults on and off: pairs
// [on, off), cut at `length`.
std::vector<std::pair<Duration, Duration>> activations(const FaultSchedule& schedule,
                                                       Duration length) {
  std::vector<std::pair<Duration, Duration>> out;
  for (Duration on = schedule.at; on < length;) {
    const Duration off = schedule.hold ? std::min(on + *schedule.hold, length) : length;
    out.emplace_back(on, off);
    if (!schedule.every) break;
    on += *schedule.every;
  }
  return out;
}

}  // namespace

std::vector<FaultStep> fault_timeline(const Scenario& s, const std::vector<PhaseWindow>& phases) {
  std::vector<FaultStep> steps;
  FaultStates current;
  auto move_to = [&](const FaultStates& wanted, Duration at, const std::string& phase) {
    std::set<std::pair<std::string, std::string>> targets;
    for (const auto& [t, _] : current) targets.insert(t);
    for (const auto& [t, _] : wanted) targets.insert(t);
    for (const auto& t : targets) {
      auto before = current.find(t);
      auto after = wanted.find(t);
      const std::string& b = before == current.end() ? "{}" : before->second;
      const std::string& a = after == wanted.end() ? "{}" : after->second;
      if (a != b) steps.push_back({at, phase, t.first, t.second, a});
    }
    current = wanted;
  };
  for (size_t i = 0; i < s.phases.size(); ++i) {
    const PhaseSpec& spec = s.phases[i];
    const PhaseWindow& w = phases[i];
    // Each entry's sets and when they are on; the instants at which anything changes.
    std::vector<const FaultProfile*> sets;
    std::vector<std::vector<std::pair<Duration, Duration>>> on;
    std::set<int64_t> edges{0};
    for (const auto& f : spec.faults) {
      const FaultProfile* set = &f.inline_set;
      if (!f.profile.empty()) {
        set = s.find_profile(f.profile);
        if (set == nullptr)
          throw UsageError("phase '" + spec.name + "' uses unknown profile '" + f.profile + "'");
      }
      sets.push_back(set);
      on.push_back(activations(f.schedule, w.length()));
      if (on.back().size() > static_cast<size_t>(kMaxFaultActivations))
        throw UsageError("phase '" + spec.name + "': the schedule of '" +
                         (f.profile.empty() ? std::string("an inline fault set") : f.profile) +
                         "' turns faults on more than " + std::to_string(kMaxFaultActivations) +
                         " times; give a longer `every`");
      for (const auto& [a, b] : on.back()) {
        edges.insert(a.count());
        edges.insert(b.count());
      }
    }
    for (int64_t edge : edges) {
      const Duration t{edge};
      if (t >= w.length()) break;
      std::vector<const FaultProfile*> active;
      for (size_t k = 0; k < sets.size(); ++k)
        for (const auto& [a, b] : on[k])
          if (a <= t && t < b) active.push_back(sets[k]);
      move_to(fault_states(active), w.start + t, spec.name);
    }
  }
  move_to({}, phases.empty() ? Duration{0} : phases.back().end, "");
  return steps;
}

Plan compile_plan(const Scenario& s, const PlanOverrides& o) {
  if (s.phases.empty()) throw UsageError(s.source_path + ": the scenario has no phases");
  if (o.qps && !(*o.qps > 0)) throw UsageError("--qps must be a positive rate");

  Plan plan;
  plan.scenario_name = s.name;
  plan.description = s.description;
  plan.target = s.target;
  plan.seed = o.seed.value_or(s.seed);
  plan.overrides = o;
  plan.base_rate = o.qps.value_or(s.traffic.rate_per_s);
  const double rate_scale = o.qps ? *o.qps / s.traffic.rate_per_s : 1.0;

  const std::vector<Duration> durations = scaled_durations(s, o);
  Duration cursor{0};
  for (size_t i = 0; i < s.phases.size(); ++i) {
    const PhaseSpec& spec = s.phases[i];
    PhaseWindow w;
    w.name = spec.name;
    w.start = cursor;
    w.end = cursor + durations[i];
    if (spec.ramp) {
      w.rate_from = spec.ramp->first * rate_scale;
      w.rate_to = spec.ramp->second * rate_scale;
    } else {
      w.rate_from = w.rate_to = spec.rate_per_s.value_or(s.traffic.rate_per_s) * rate_scale;
    }
    plan.phases.push_back(w);
    cursor = w.end;
  }
  plan.total = cursor;

  plan.arrival = s.traffic.arrival;
  plan.request_timeout = s.traffic.timeout;
  plan.max_in_flight = s.traffic.max_in_flight;
  plan.threads = s.traffic.threads;
  plan.routes = s.traffic.routes;
  plan.hooks = s.hooks;

  plan.fault_steps = fault_timeline(s, plan.phases);

  plan.scrape_interval = s.observe.interval;
  plan.scrape_targets = s.observe.targets;
  if (!s.observe.targets_given) plan.scrape_targets.push_back({s.target, "/metrics"});
  plan.metrics_of_interest = s.observe.metrics;
  plan.scrape_ticks = scrape_ticks_for(plan);

  plan.guard = s.observe.guard;
  plan.tolerance = s.tolerance;
  if (plan.tolerance.baseline_phase.empty()) plan.tolerance.baseline_phase = plan.phases[0].name;
  // Validation checked every statement; parsing them here once means a statement that
  // slipped past it stops the compile with its place instead of vanishing from the run.
  for (const auto& a : s.assertions)
    plan.assertions.push_back(
        plan_statement(a.text, a.loc, dsl::StatementKind::kAssertion, a.loc.str()));
  for (const auto& a : s.abort_if)
    plan.abort_if.push_back(
        plan_statement(a.text, a.loc, dsl::StatementKind::kAbortIf, a.loc.str()));
  for (const auto& a : s.compare)
    plan.compare_gates.push_back(
        plan_statement(a.text, a.loc, dsl::StatementKind::kCompareGate, a.loc.str()));

  plan.plan_hash = compute_plan_hash(plan);
  return plan;
}

std::vector<Duration> scrape_ticks_for(const Plan& plan) {
  // validate reports a spec over the limit at its place; this catches --duration (and a
  // plan.json read back) before the set below grows without bound.
  if (plan.scrape_interval.count() > 0 &&
      scrape_rounds(plan.total, plan.scrape_interval) > kMaxScrapeRounds)
    throw UsageError("scraping every " + format_duration(plan.scrape_interval) + " over " +
                     format_duration(plan.total) + " makes more than " +
                     std::to_string(kMaxScrapeRounds) +
                     " scrape rounds; raise observe.interval or give a shorter --duration");
  std::set<int64_t> ticks{0};
  if (plan.scrape_interval.count() > 0)
    for (int64_t t = 0; t <= plan.total.count(); t += plan.scrape_interval.count()) ticks.insert(t);
  for (const auto& p : plan.phases) ticks.insert(p.end.count());
  std::vector<Duration> out;
  for (int64_t t : ticks) out.emplace_back(t);
  return out;
}

std::string fault_step_service(const FaultStep& step) {
  if (step.kind == "knobs" || step.kind == "levers") return step.target;
  if (step.kind == "process") return step.target.substr(0, step.target.find('#'));
  if (step.kind == "proxy") return step.target;
  return "";
}

double PhaseWindow::expected_requests() const {
  const double seconds = std::chrono::duration<double>(length()).count();
  return (rate_from + rate_to) / 2.0 * seconds;
}

const PhaseWindow* Plan::phase_at(Duration t) const {
  for (const auto& p : phases)
    if (t >= p.start && t < p.end) return &p;
  return nullptr;
}

PlannedStatement plan_statement(std::string text, SourceLoc loc, dsl::StatementKind kind,
                                const std::string& where) {
  dsl::ParseResult parsed = dsl::parse_statement(text, kind);
  if (!parsed.ok())
    throw UsageError(where + ": statement '" + text + "' does not parse: " + parsed.error.message);
  PlannedStatement s;
  s.text = std::move(text);
  s.loc = std::move(loc);
  s.parsed = std::make_shared<const dsl::Statement>(std::move(*parsed.statement));
  return s;
}

const PhaseWindow* Plan::find_phase(const std::string& name) const {
  for (const auto& p : phases)
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace faultline
