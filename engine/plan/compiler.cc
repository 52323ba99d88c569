#include "plan/compiler.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/error.h"
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

// Knobs per service for a phase: profiles in order, then inline knobs; later settings win.
std::map<std::string, std::map<std::string, std::string>> phase_knobs(const Scenario& s,
                                                                      const PhaseSpec& phase) {
  std::map<std::string, std::map<std::string, std::string>> by_service;
  auto apply = [&](const std::vector<KnobSetting>& knobs) {
    for (const auto& k : knobs) by_service[k.service][k.knob] = k.value_json;
  };
  for (const auto& name : phase.profiles) {
    const FaultProfile* profile = nullptr;
    for (const auto& candidate : s.fault_profiles)
      if (candidate.name == name) profile = &candidate;
    if (!profile)
      throw UsageError("phase '" + phase.name + "' uses unknown profile '" + name + "'");
    apply(profile->knobs);
  }
  apply(phase.inline_knobs);
  return by_service;
}

std::string knobs_object(const std::map<std::string, std::string>& knobs) {
  std::string out = "{";
  for (const auto& [name, value] : knobs) {
    if (out.size() > 1) out += ",";
    out += "\"" + name + "\":" + value;  // knob names are identifiers (schema-checked)
  }
  return out + "}";
}

}  // namespace

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
  plan.routes = s.traffic.routes;

  // Fault timeline: a step wherever a service's knob set changes, and a reset of everything
  // still faulted at the end of the last phase.
  std::map<std::string, std::string> current;  // service -> knobs json
  for (size_t i = 0; i < s.phases.size(); ++i) {
    std::map<std::string, std::string> wanted;
    for (const auto& [service, knobs] : phase_knobs(s, s.phases[i]))
      wanted[service] = knobs_object(knobs);
    std::set<std::string> services;
    for (const auto& [svc, _] : current) services.insert(svc);
    for (const auto& [svc, _] : wanted) services.insert(svc);
    for (const auto& svc : services) {
      const std::string before = current.count(svc) ? current[svc] : "{}";
      const std::string after = wanted.count(svc) ? wanted[svc] : "{}";
      if (before != after)
        plan.fault_steps.push_back({plan.phases[i].start, s.phases[i].name, svc, after});
    }
    current = std::move(wanted);
  }
  for (const auto& [svc, knobs] : current) plan.fault_steps.push_back({plan.total, "", svc, "{}"});

  plan.scrape_interval = s.observe.interval;
  plan.scrape_targets = s.observe.targets;
  if (plan.scrape_targets.empty()) plan.scrape_targets.push_back({s.target, "/metrics"});
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
