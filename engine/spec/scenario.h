// Scenario: the typed model of one scenario file after loading, `extends` resolution,
// `${VAR}` substitution, schema validation and semantic checks. It is what the plan compiler
// consumes. Every field is already validated: durations parsed, names resolved, weights > 0.
// Source locations are kept so later stages can point at the spec when they complain.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/units.h"

namespace faultline {

struct SourceLoc {
  std::string file;
  int line = 0;             // 1-based; 0 = unknown
  int column = 0;           // 1-based
  std::string str() const;  // "specs/x.yaml:14:9" (or just the file when line is 0)
};

// A seeded template variable of a route: `user_id: uniform(1, 1000)`.
struct VarSpec {
  enum class Kind { kUniform, kZipf, kChoice, kSequence };
  std::string name;
  Kind kind = Kind::kUniform;
  int64_t lo = 0, hi = 0;  // uniform(lo, hi), inclusive integers
  uint64_t n = 0;          // zipf(n, s): ranks 1..n
  double s = 1.0;
  std::vector<std::string> choices;  // choice([...]), values as text
  int64_t start = 1, step = 1;       // sequence(start=1, step=1): per-route counter
  SourceLoc loc;
};

struct RouteSpec {
  std::string name;
  double weight = 1.0;                                                // > 0
  std::string method;                                                 // "GET", "POST", ...
  std::string path_template;                                          // "/users/{user_id}"
  std::vector<std::pair<std::string, std::string>> header_templates;  // in file order
  std::string body_template;  // empty: no body; YAML maps are rendered to JSON text
  std::vector<VarSpec> vars;
  SourceLoc loc;
  // JSON pointer ("/order_id") into a 2xx response's JSON body: the id the system acknowledged
  // for the request, recorded in its sample. Empty: the body is not kept (no cost per request).
  // (Has an initializer so that aggregate initialisations without it stay complete.)
  std::string ack_id = {};
};

enum class ArrivalProcess { kConstant, kPoisson };

struct TrafficSpec {
  double rate_per_s = 10.0;  // default phase rate
  ArrivalProcess arrival = ArrivalProcess::kConstant;
  Duration timeout{std::chrono::seconds(5)};
  int max_in_flight = 256;
  int threads = 0;  // load-engine loop threads; 0 means automatic (see plan.h)
  std::vector<RouteSpec> routes;
};

// One knob setting for the fault contract: POST /__faults {knob: value} on `service`.
struct KnobSetting {
  std::string service;
  std::string knob;
  std::string value_json;  // canonical JSON text of the value: 0.2, 1500, true
  SourceLoc loc;
};

// A process fault on a service faultline started: "api" acts on every instance, "api#1" on
// the second (instances count from 0).
struct ProcessFault {
  std::string service;
  std::string action;  // "kill" (SIGKILL), "terminate" (SIGTERM, then SIGKILL after grace),
                       // "pause" (SIGSTOP until undone), "restart" (stop, start, wait ready)
  Duration grace{std::chrono::seconds(5)};  // terminate and restart: SIGTERM to SIGKILL
  std::optional<Duration> restart_after;    // kill/terminate: start again this long after
  int restarts = 1;  // with restart_after: a crash loop of this many kill-and-restart rounds
  SourceLoc loc;
};

// A toxic of one of the environment's TCP proxies (docs/fault-proxy.md). Attributes are in
// the units of faults/toxic.h; only those of `type` are set (the checks refuse the others).
struct ProxyToxicSpec {
  std::string proxy;
  std::string name;  // unique per proxy; keys the deterministic toxicity. Default: the type
  std::string type;  // latency, bandwidth, timeout, reset_peer, slow_close, slicer, ...
  std::string direction = "downstream";
  double toxicity = 1.0;
  std::map<std::string, int64_t> attributes;  // latency_ms, jitter_ms, rate_kb_per_s, ...
  SourceLoc loc;
};

// A command the platform uses to break something (docker, kubectl, systemctl): `run` when the
// fault begins, `undo` when it is lifted. argv lists; through /bin/sh -c only when `shell`.
struct ExecFault {
  std::string name;  // unique per scenario; names the hook in the plan and the bundle's logs
  std::vector<std::string> run;
  std::vector<std::string> undo;  // may be empty: nothing to undo
  bool shell = false;
  Duration timeout{std::chrono::seconds(30)};  // each of run and undo
  SourceLoc loc;
};

// A named, reusable set of faults of every kind.
struct FaultProfile {
  std::string name;
  std::vector<KnobSetting> knobs;
  // Runtime levers (PUT /__levers): the same shape as knobs; a mitigation pulled mid-incident.
  std::vector<KnobSetting> levers;
  std::vector<ProcessFault> process;
  std::vector<ProxyToxicSpec> proxy;
  std::vector<ExecFault> exec;
  SourceLoc loc;

  bool empty() const {
    return knobs.empty() && levers.empty() && process.empty() && proxy.empty() && exec.empty();
  }
};

// When, inside its phase, a set of faults is on: from `at` after the phase starts, for `hold`
// (none: to the phase's end), again every `every` (none: once). Cut at the phase's end.
struct FaultSchedule {
  Duration at{0};
  std::optional<Duration> hold;   // `for:` in the spec
  std::optional<Duration> every;  // REQUIRES: hold set and shorter than every
  bool whole_phase() const { return at.count() == 0 && !hold && !every; }
};

// Most times one schedule may turn its faults on within a phase (`every: 1ms` over an hour
// would be millions of steps). validate reports a schedule over it; the compiler refuses a
// --duration that stretches one over it.
inline constexpr int64_t kMaxFaultActivations = 10'000;

// One entry of a phase's `faults:`: a profile by name or a set written in place, on a schedule.
struct PhaseFault {
  std::string profile;  // name in fault_profiles; empty for a set written in place
  FaultProfile inline_set;
  FaultSchedule schedule;
  SourceLoc loc;
};

struct PhaseSpec {
  std::string name;
  Duration duration{0};
  std::optional<double> rate_per_s;               // constant rate for this phase
  std::optional<std::pair<double, double>> ramp;  // linear from -> to over the phase
  std::vector<PhaseFault> faults;                 // in file order; later entries win
  SourceLoc loc;
};

struct ScrapeTarget {
  std::string service;  // logical name in the environment
  std::string path = "/metrics";
};

struct TrafficGuard {
  int64_t min_requests = 20;         // client-side samples per judged window
  int64_t min_histogram_count = 20;  // server-side histogram count increase per window
};

// Most scrape rounds (one every observe.interval over the whole run) a plan may have. The plan
// lists every round and the run keeps every scrape, so a 1us interval over ten minutes would
// exhaust memory while the plan is still being compiled. 100 000 rounds are 27 hours at the
// default 1 s interval. `validate` reports a spec over it at observe.interval; the plan compiler
// refuses a --duration that goes over it.
inline constexpr int64_t kMaxScrapeRounds = 100'000;

// Scrape rounds of a run `total` long scraped every `interval`: one at 0, then one per interval.
// REQUIRES: interval > 0.
inline int64_t scrape_rounds(Duration total, Duration interval) {
  return total.count() / interval.count() + 1;
}

struct ObserveSpec {
  // Absent (targets_given false): the scenario's target only. Given and empty: nothing is
  // scraped (the client's own figures only).
  std::vector<ScrapeTarget> targets;
  bool targets_given = false;
  Duration interval{std::chrono::seconds(1)};
  std::vector<std::string> metrics;  // metric names of interest (empty: all)
  TrafficGuard guard;
};

struct AssertionSpec {
  std::string text;  // the DSL source, e.g. "during(trigger): p95(route=orders) > 800ms"
  SourceLoc loc;     // where the string starts in the file
};

// "back to normal": within `relative` of the baseline value, or within `absolute` of it for
// values near zero (latencies in seconds, rates as fractions).
struct Tolerance {
  double relative = 0.25;
  double absolute = 0.02;
  std::string baseline_phase;  // empty: the first phase
};

// A command or an HTTP probe run once, outside the traffic: a setup hook before the first
// request (seed data, clear state), a verify hook after the traffic ended and the faults were
// undone (read what the system applied). Exactly one of exec and http_service is set.
// Placeholders {svc.port}, {svc.url}, {svc.host} in exec argv and the http path are resolved
// against the running services; a hook has no {port} of its own.
struct HookSpec {
  std::string name;               // unique among all hooks; names hooks/<name>.out in the bundle
  std::vector<std::string> exec;  // argv (no shell)
  std::string http_service;       // http: the service probed
  std::string http_path = "/";    // http: path (and query) on it
  std::string http_method = "GET";
  Duration wait{0};                            // delay before the first attempt
  Duration timeout{std::chrono::seconds(10)};  // each attempt
  // Retry a failing attempt (non-zero exit, HTTP not 2xx, timeout, unusable JSON) until this
  // much time has passed since the first attempt. None: one attempt.
  std::optional<Duration> retry_until_ok;
  // verify only: JSON pointer to an array of the ids the system applied (strings or numbers).
  std::string applied_ids;
  SourceLoc loc;
};

struct ScenarioHooks {
  std::vector<HookSpec> setup;   // in order, after services are up, before traffic
  std::vector<HookSpec> verify;  // in order, after traffic and the undo of faults
  bool empty() const { return setup.empty() && verify.empty(); }
  // The verify hook whose applied_ids feed the id history, or null (at most one has it).
  const HookSpec* history_source() const {
    for (const auto& h : verify)
      if (!h.applied_ids.empty()) return &h;
    return nullptr;
  }
};

struct Scenario {
  int version = 1;
  std::string name;
  std::string description;
  uint64_t seed = 1;
  std::string target;       // logical service name receiving the traffic
  std::string environment;  // the environment file as resolved by the loader (relative to the
                            // current directory unless absolute)
  TrafficSpec traffic;
  std::vector<FaultProfile> fault_profiles;
  std::vector<PhaseSpec> phases;
  ObserveSpec observe;
  std::vector<AssertionSpec> assertions;
  Tolerance tolerance;
  std::vector<AssertionSpec> abort_if;  // checked live; true ends the run early
  std::vector<AssertionSpec> compare;   // regression gates for `faultline compare`
  ScenarioHooks hooks;
  std::string source_path;  // the file as given on the command line

  const PhaseSpec* find_phase(const std::string& name) const;
  const FaultProfile* find_profile(const std::string& name) const;
  const RouteSpec* find_route(const std::string& name) const;
};

}  // namespace faultline
