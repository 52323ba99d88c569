// RunReport: what a run found, as plain values. The runner fills it from the plan,
// observations, fault events and verdicts; report_json.h writes it as the artifact that
// schemas/report.schema.json describes. Nothing here knows how it was measured.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/units.h"
#include "judge/run_facts.h"
#include "judge/verdict.h"

namespace faultline {

// Run outcome, in the order of precedence the runner applies.
enum class RunStatus {
  kPassed,            // every assertion passed
  kFailed,            // an assertion failed
  kInconclusive,      // none failed but at least one was inconclusive
  kAborted,           // an abort_if condition ended the run early
  kInterrupted,       // SIGINT/SIGTERM
  kEnvironmentError,  // services could not be started, preflight failed, a fault call failed
};
const char* run_status_name(RunStatus s);
// The process exit code of a run that ended so (common/error.h ExitCode).
int exit_code_of(RunStatus s);

struct LatencySummary {
  int64_t count = 0;
  // In milliseconds; absent when count == 0.
  std::optional<double> p50_ms, p95_ms, p99_ms, max_ms, mean_ms;
};

struct TrafficSummary {
  int64_t sent = 0;       // requests that went out (aborted ones included)
  int64_t completed = 0;  // got a response (any status)
  int64_t dropped = 0;    // never sent: max_in_flight was reached at their intended time
  std::map<std::string, int64_t> by_status_class;  // "2xx" -> n
  // "timeout" -> n: transport errors, and faultline's own "aborted" (in flight when its stop
  // ended the run) and "dropped", which are not the target's errors.
  std::map<std::string, int64_t> by_error_class;
  // (5xx + transport errors) / (sent - aborted); 0 when that is 0.
  double error_rate = 0;
  double achieved_rps = 0;  // sent / phase seconds
  // Of requests that got a response or a transport error, from the intended send time
  // (aborted ones excluded: their latency is faultline's stop).
  LatencySummary latency;
};

// How late the client sent the phase's requests (sent_us - intended_us), in milliseconds.
// Latency is measured from the intended time, so lateness is part of every latency figure:
// when it is large, the client (faultline, or the machine it runs on), not the target, was
// slow. client_lagging: see is_client_lagging (report/summary.h).
struct SendLateness {
  int64_t count = 0;                             // requests sent
  std::optional<double> p50_ms, p99_ms, max_ms;  // absent when count == 0
  bool client_lagging = false;
};

struct ServerSummary {
  std::string service;
  // Named figures for the phase, e.g. "http_p95_ms", "inflight_max", "queue_depth_max".
  std::map<std::string, double> values;
};

struct PhaseReport {
  std::string name;
  Duration start{0}, end{0};
  double planned_rate_from = 0, planned_rate_to = 0;
  double planned_requests = 0;
  std::map<std::string, std::string> faults;  // service -> knobs JSON held in this phase
  TrafficSummary client;
  SendLateness send_lateness;
  std::map<std::string, TrafficSummary> routes;
  std::vector<ServerSummary> server;
};

struct FaultEventRecord {
  Duration at{0};
  std::string phase, kind, target, action, state_json;
  bool ok = false;
  long status = 0;
  std::string error;
  Duration call_latency{0};
  Duration ready_after{0};  // process starts: how long the service took to be ready again
};

struct ObservedValue {
  std::string what;             // "p95(route=orders)"
  std::string window;           // "during(trigger)"
  std::optional<double> value;  // normalised unit (seconds, fraction, per second)
  std::string display;          // "812ms", "2.4%"
  int64_t samples = 0;
  std::string note;  // why there is no value
};

struct AssertionReport {
  std::string text;       // as written
  std::string canonical;  // as printed by the DSL
  judge::VerdictStatus status = judge::VerdictStatus::kInconclusive;
  std::string window;  // "during(trigger)"
  Duration window_start{0}, window_end{0};
  std::string expected;  // the relation in words
  std::string message;   // one paragraph for humans
  std::vector<ObservedValue> observed;
  std::string source;  // "specs/x.yaml:31:5"
};

struct SlowRequest {
  uint64_t seq = 0;
  std::string request_id, trace_id, route, method, path, phase;
  long status = 0;
  std::string error_class;
  Duration intended{0};
  Duration latency{0};
};

struct ErrorSignature {
  std::string signature;  // redacted: "POST /orders -> 502 payment_failed"
  int64_t count = 0;
  std::string example_request_id;
};

// The scrapes of one target that failed, with why: "HTTP 503: ...", "timeout after 2s",
// "metrics text: line 3:5: expected ...", "response body larger than ... bytes".
struct ScrapeFailureReport {
  static constexpr size_t kMaxListed = 20;
  std::string service;
  int64_t count = 0;  // every failure; only the first kMaxListed are listed
  struct Failure {
    Duration at{0};
    std::string reason;
  };
  std::vector<Failure> first;
};

struct ServiceRecord {
  std::string name, url;
  bool started_here = false;
  int pid = 0;
  std::string log;  // path inside the bundle
};

// One setup or verify hook as it ran (run/hooks.h). The output itself stays in the bundle.
struct HookRecord {
  std::string name;
  std::string stage;  // "setup" or "verify"
  std::string kind;   // "exec" or "http"
  bool ok = false;
  int attempts = 0;
  int exit_code = -1;       // exec: the command's exit code; -1 when it did not exit by itself
  long http_status = 0;     // http: the last response's status; 0 when none arrived
  Duration elapsed{0};      // from the first attempt to the last one's end (wait excluded)
  std::string error;        // why it failed, "" when ok
  std::string output_file;  // "hooks/<name>.out", relative to the bundle
  std::string output;       // the output itself (not written to the artifact)
};

struct RunReport {
  RunStatus status = RunStatus::kPassed;
  int exit_code = 0;
  std::string status_detail;  // why aborted / interrupted / environment error

  // meta
  std::string scenario, description, spec_path, environment_path, tag, faultline_version;
  std::string plan_hash, command_line, host;
  std::string schedule_sha256;  // of the arrivals handed out (replay compares it)
  uint64_t arrivals = 0;        // how many arrivals were handed out
  uint64_t seed = 0;
  double base_rate = 0;
  Duration planned_duration{0}, actual_duration{0};
  std::string started_at, ended_at;  // UTC ISO-8601
  // The wall-clock time of plan time 0, Unix ms: what maps the run's ticks to a Prometheus
  // server's clock (`faultline judge --prometheus`). 0: not recorded.
  int64_t plan_zero_unix_ms = 0;
  // Where the server side came from: "scrape" (faultline scraped /metrics) or "prometheus",
  // with the server's URL and label matchers (spec/environment.h: ObserveSource).
  std::string observe_source = "scrape", observe_url, observe_match;
  std::map<std::string, std::string> overrides;  // flag -> value as given
  uint32_t load_threads = 0;  // the load engine's loop threads (traffic.threads); 0: unknown

  std::vector<ServiceRecord> services;
  std::vector<PhaseReport> phases;
  std::vector<FaultEventRecord> fault_events;
  bool faults_undone = true;  // every undo step succeeded (or none was needed)
  std::vector<AssertionReport> assertions;
  std::string abort_condition;  // the abort_if that fired, if any
  Duration aborted_at{0};
  std::vector<SlowRequest> slowest;  // at most 50, slowest first
  std::vector<ErrorSignature> error_signatures;
  std::vector<ScrapeFailureReport> scrape_failures;  // targets with at least one failure
  std::vector<HookRecord> hooks;                     // setup then verify, as they ran
  // The id history (judge/run_facts.h), when a verify hook gave applied_ids; else why not.
  std::optional<judge::IdHistory> history;
  std::string no_history;
  std::vector<std::string> hint_request_ids;  // slowest and failed, to grep in logs
  std::vector<std::string> hint_trace_ids;
  // Replays: the source artifact, its schedule checksum, and whether ours matched it.
  std::string replay_of;
  std::string replay_source_schedule_sha256;
  bool replay_schedule_matched = false;
  std::string bundle_dir;  // relative to the artifact
  std::vector<std::string> bundle_files;
};

}  // namespace faultline
