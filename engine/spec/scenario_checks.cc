#include "spec/scenario_checks.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "dsl/check.h"
#include "spec/json_fields.h"

namespace faultline {

namespace {

std::vector<std::string> names_of(const auto& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.name);
  return out;
}

void check_profiles(const Scenario& s, const ScenarioReferences& refs, DiagnosticSink& sink) {
  const std::vector<std::string> defined = names_of(s.fault_profiles);
  std::set<std::string> used;
  for (const auto& use : refs.profile_uses) {
    used.insert(use.name);
    if (s.find_profile(use.name) == nullptr) {
      report_unknown_name(sink, use.pointer, "fault profile", use.name, defined, "fault_profiles");
    }
  }
  for (const auto& def : refs.profile_definitions) {
    if (used.count(def.name) == 0) {
      sink.warning(def.pointer, "fault profile \"" + def.name + "\" is not used by any phase",
                   "add it to a phase's faults: or remove it", DiagnosticSink::Anchor::kKey);
    }
  }
}

void check_capacity(const Scenario& s, const ScenarioReferences& refs, DiagnosticSink& sink) {
  const double timeout_s = static_cast<double>(s.traffic.timeout.count()) / 1e6;
  std::set<std::string> reported;
  for (size_t i = 0; i < s.phases.size(); ++i) {
    const PhaseSpec& p = s.phases[i];
    double peak = s.traffic.rate_per_s;
    std::string pointer = i < refs.phase_rate_pointers.size() ? refs.phase_rate_pointers[i] : "";
    if (p.ramp) {
      peak = std::max(p.ramp->first, p.ramp->second);
    } else if (p.rate_per_s) {
      peak = *p.rate_per_s;
    } else {
      pointer = sink.map().find("/traffic/rate") ? "/traffic/rate" : refs.max_in_flight_pointer;
    }
    if (pointer.empty()) pointer = refs.max_in_flight_pointer;
    const double needed = std::ceil(peak * timeout_s - 1e-9);
    if (needed <= s.traffic.max_in_flight || !reported.insert(pointer).second) continue;
    // Largest timeout that fits, rounded down to whole milliseconds.
    const int64_t fit_ms = static_cast<int64_t>(s.traffic.max_in_flight / peak * 1000.0);
    // A warning, not an error: a healthy target answers long before the timeout, so far fewer
    // requests are in flight than this bound. The risk is a stalled target, where the requests
    // over the limit are dropped (counted as dropped, never sent) instead of queued.
    const std::string limit = std::to_string(s.traffic.max_in_flight);
    sink.warning(pointer,
                 number_words(peak) + "/s with a " + format_duration(s.traffic.timeout) +
                     " timeout can keep up to " + number_words(needed) +
                     " requests in flight, more than traffic.max_in_flight (" + limit +
                     "): if the target stalls, requests beyond " + limit +
                     " in flight are dropped (counted as dropped, never sent)",
                 "if drops are not what the scenario is about, raise traffic.max_in_flight to at "
                 "least " +
                     number_words(needed) + ", lower the rate to at most " +
                     number_words(s.traffic.max_in_flight / timeout_s) +
                     "/s, or shorten traffic.timeout to at most " +
                     format_duration(Duration{fit_ms * 1000}));
  }
}

void check_scrape_rounds(const Scenario& s, const ScenarioReferences& refs, DiagnosticSink& sink) {
  const Duration interval = s.observe.interval;
  if (interval.count() <= 0 || s.phases.empty()) return;
  Duration total{0};
  size_t longest = 0;
  for (size_t i = 0; i < s.phases.size(); ++i) {
    total += s.phases[i].duration;
    if (s.phases[i].duration > s.phases[longest].duration) longest = i;
  }
  const int64_t rounds = scrape_rounds(total, interval);
  if (rounds <= kMaxScrapeRounds) return;
  // The shortest interval that fits (total / interval <= kMaxScrapeRounds - 1), rounded up to
  // whole milliseconds.
  const int64_t fit_us = (total.count() + kMaxScrapeRounds - 2) / (kMaxScrapeRounds - 1);
  const Duration fit{(fit_us + 999) / 1000 * 1000};
  std::string pointer = "/observe/interval";
  if (sink.map().find(pointer) == nullptr && longest < refs.phase_pointers.size())
    pointer = refs.phase_pointers[longest] + "/duration";
  sink.error(
      pointer,
      "scraping every " + format_duration(interval) + " over " + format_duration(total) +
          " of phases makes " + std::to_string(rounds) + " scrape rounds, more than a run keeps (" +
          std::to_string(kMaxScrapeRounds) + ")",
      "raise observe.interval to at least " + format_duration(fit) + ", or shorten the phases");
}

void check_environment_names(const ScenarioReferences& refs, const Environment& env,
                             const std::string& env_path, DiagnosticSink& sink) {
  const std::vector<std::string> services = names_of(env.services);
  if (!refs.target.name.empty()) {
    const ServiceSpec* t = env.find(refs.target.name);
    if (t == nullptr) {
      report_unknown_name(sink, refs.target.pointer, "target service", refs.target.name, services,
                          env_path);
    } else if (!t->has_single_address()) {
      sink.error(refs.target.pointer,
                 "target \"" + t->name + "\" runs " + std::to_string(t->instances) +
                     " instances without a balancer in " + env_path,
                 "add balancer: nginx to it there, so traffic has one address to go to");
    } else if (t->protocol != "http") {
      sink.error(refs.target.pointer,
                 "target \"" + t->name + "\" speaks " + t->protocol + ", not http",
                 "traffic goes to an HTTP service of " + env_path);
    }
  }
  for (const auto& k : refs.knob_services) {
    const ServiceSpec* svc = env.find(k.name);
    if (svc == nullptr) {
      report_unknown_name(sink, k.pointer, "service", k.name, services, env_path);
    } else if (!svc->faults) {
      sink.error(k.pointer, "service \"" + k.name + "\" does not take fault knobs in " + env_path,
                 "set faults: true for it there (and start it with faults enabled)",
                 DiagnosticSink::Anchor::kKey);
    } else if (svc->instances > 1) {
      // A knob call goes to one address; through a balancer it would reach one instance.
      sink.error(k.pointer,
                 "service \"" + k.name + "\" runs " + std::to_string(svc->instances) +
                     " instances in " + env_path + "; knobs reach one address, not each instance",
                 "break its instances with process faults, or run it with instances: 1",
                 DiagnosticSink::Anchor::kKey);
    }
  }
  for (const auto& p : refs.process_services) {
    const size_t hash = p.name.find('#');
    const std::string base = p.name.substr(0, hash);
    const ServiceSpec* svc = env.find(base);
    if (svc != nullptr && !svc->command.empty() && hash != std::string::npos) {
      const std::string index = p.name.substr(hash + 1);
      const bool digits =
          !index.empty() && index.size() <= 4 &&
          std::all_of(index.begin(), index.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!digits || std::stoi(index) >= svc->instances) {
        const std::string last = base + "#" + std::to_string(svc->instances - 1);
        sink.error(p.pointer,
                   "service \"" + base + "\" has " + std::to_string(svc->instances) +
                       (svc->instances == 1 ? " instance (" + base + "#0)"
                                            : " instances (" + base + "#0.." + last + ")") +
                       " in " + env_path + "; there is no " + p.name,
                   "name an instance from " + base + "#0 to " + last + ", or " + base +
                       " for every instance");
        continue;
      }
    }
    if (svc == nullptr) {
      report_unknown_name(sink, p.pointer, "service", base, services, env_path);
    } else if (svc->command.empty()) {
      sink.error(p.pointer,
                 "process faults act on services faultline starts; \"" + base + "\" is " +
                     (svc->proxy_of.empty() ? "given by URL" : "a proxy") + " in " + env_path,
                 svc->proxy_of.empty() ? "give it a command there, or break it another way "
                                         "(exec hooks, a proxy)"
                                       : "put a down toxic on the proxy instead");
    }
  }
  std::vector<std::string> proxies;
  for (const auto& svc : env.services)
    if (!svc.proxy_of.empty()) proxies.push_back(svc.name);
  for (const auto& p : refs.proxy_uses) {
    if (std::find(proxies.begin(), proxies.end(), p.name) == proxies.end())
      report_unknown_name(sink, p.pointer, "proxy", p.name, proxies, env_path + " proxies");
  }
  for (const auto& o : refs.observe_services) {
    if (env.find(o.name) == nullptr) {
      report_unknown_name(sink, o.pointer, "service", o.name, services, env_path);
    }
  }
  for (const auto& h : refs.hook_http_services) {
    const ServiceSpec* svc = env.find(h.name);
    if (svc == nullptr)
      report_unknown_name(sink, h.pointer, "service", h.name, services, env_path);
    else if (svc->protocol != "http")
      sink.error(h.pointer,
                 "hook service \"" + h.name + "\" speaks " + svc->protocol + ", not http",
                 "probe an HTTP service of " + env_path + ", or use an exec hook");
  }
  for (const auto& h : refs.hook_services) {
    if (env.find(h.name) == nullptr)
      report_unknown_name(sink, h.pointer, "service", h.name, services, env_path);
  }
}

void check_statements(const Scenario& s, const ScenarioReferences& refs, const Environment* env,
                      DiagnosticSink& sink) {
  dsl::DslContext ctx;
  ctx.phases = names_of(s.phases);
  ctx.routes = names_of(s.traffic.routes);
  if (env != nullptr) {
    ctx.services = names_of(env->services);
    // Each instance is scraped as its own job ("api#1"); job="api" selects them all.
    for (const auto& svc : env->services)
      if (svc.instanced())
        for (int i = 0; i < svc.instances; ++i)
          ctx.services.push_back(svc.name + "#" + std::to_string(i));
  }
  ctx.verify_hooks = names_of(s.hooks.verify);
  for (const auto& p : s.phases) {
    if (!p.name.empty() && p.duration.count() > 0) ctx.phase_durations[p.name] = p.duration;
  }
  auto run = [&](const std::vector<AssertionSpec>& list, const std::vector<std::string>& pointers,
                 dsl::StatementKind kind) {
    for (size_t i = 0; i < list.size() && i < pointers.size(); ++i) {
      for (const auto& problem : dsl::check_statement(list[i].text, ctx, kind)) {
        const SourceLoc at = sink.map().locate_in_value(pointers[i], problem.offset);
        const int length = static_cast<int>(std::max<size_t>(1, problem.length));
        if (problem.is_error())
          sink.error_at(at, pointers[i], problem.message, problem.hint, length);
        else
          sink.note_at(at, pointers[i], problem.message, problem.hint, length);
      }
    }
  };
  run(s.assertions, refs.assertion_pointers, dsl::StatementKind::kAssertion);
  run(s.abort_if, refs.abort_if_pointers, dsl::StatementKind::kAbortIf);
  run(s.compare, refs.compare_pointers, dsl::StatementKind::kCompareGate);
}

}  // namespace

void check_scenario(const Scenario& scenario, const ScenarioReferences& refs,
                    const Environment* environment, const std::string& environment_path,
                    DiagnosticSink& sink) {
  check_profiles(scenario, refs, sink);
  if (!refs.baseline.name.empty() && scenario.find_phase(refs.baseline.name) == nullptr) {
    report_unknown_name(sink, refs.baseline.pointer, "phase", refs.baseline.name,
                        names_of(scenario.phases), "phases");
  }
  check_capacity(scenario, refs, sink);
  check_scrape_rounds(scenario, refs, sink);
  if (environment != nullptr) {
    check_environment_names(refs, *environment, environment_path, sink);
  }
  check_statements(scenario, refs, environment, sink);
}

}  // namespace faultline
