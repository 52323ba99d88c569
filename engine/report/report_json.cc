#include "report/report_json.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "common/error.h"
#include "common/json_out.h"

namespace faultline {

int exit_code_of(RunStatus s) {
  switch (s) {
    case RunStatus::kPassed:
      return 0;
    case RunStatus::kFailed:
    case RunStatus::kInconclusive:
    case RunStatus::kAborted:
      return 1;
    case RunStatus::kInterrupted:
      return 130;
    case RunStatus::kEnvironmentError:
      return 3;
  }
  return 3;
}

const char* run_status_name(RunStatus s) {
  switch (s) {
    case RunStatus::kPassed:
      return "passed";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kInconclusive:
      return "inconclusive";
    case RunStatus::kAborted:
      return "aborted";
    case RunStatus::kInterrupted:
      return "interrupted";
    case RunStatus::kEnvironmentError:
      return "environment-error";
  }
  return "?";
}

namespace {

using Writer = JsonOut;

void key(Writer& w, std::string_view k) {
  w.key(k);
}
void str(Writer& w, std::string_view k, const std::string& v) {
  key(w, k);
  w.value(v);
}
void num(Writer& w, std::string_view k, double v) {
  key(w, k);
  if (std::isfinite(v))
    w.value(static_cast<double>(v));
  else
    w.null();  // JSON has no NaN/Inf; absent values are null
}
void opt(Writer& w, std::string_view k, const std::optional<double>& v) {
  key(w, k);
  if (v && std::isfinite(*v))
    w.value(static_cast<double>(*v));
  else
    w.null();
}
void i64(Writer& w, std::string_view k, int64_t v) {
  key(w, k);
  w.value(static_cast<int64_t>(v));
}
void us(Writer& w, std::string_view k, Duration d) {
  i64(w, k, d.count());
}
void boolean(Writer& w, std::string_view k, bool v) {
  key(w, k);
  w.value(static_cast<bool>(v));
}
void counts(Writer& w, std::string_view k, const std::map<std::string, int64_t>& m) {
  key(w, k);
  w.begin_object();
  for (const auto& [name, n] : m) i64(w, name, n);
  w.end_object();
}
void strings(Writer& w, std::string_view k, const std::vector<std::string>& v) {
  key(w, k);
  w.begin_array();
  for (const auto& s : v) w.value(s);
  w.end_array();
}
void raw_json(Writer& w, std::string_view k, const std::string& json) {
  key(w, k);
  w.raw(json);
}

void latency(Writer& w, const LatencySummary& l) {
  key(w, "latency_ms");
  w.begin_object();
  i64(w, "count", l.count);
  opt(w, "p50", l.p50_ms);
  opt(w, "p95", l.p95_ms);
  opt(w, "p99", l.p99_ms);
  opt(w, "max", l.max_ms);
  opt(w, "mean", l.mean_ms);
  w.end_object();
}

void traffic(Writer& w, const TrafficSummary& t) {
  w.begin_object();
  i64(w, "sent", t.sent);
  i64(w, "completed", t.completed);
  i64(w, "dropped", t.dropped);
  num(w, "achieved_rps", t.achieved_rps);
  num(w, "error_rate", t.error_rate);
  counts(w, "by_status_class", t.by_status_class);
  counts(w, "by_error_class", t.by_error_class);
  latency(w, t.latency);
  w.end_object();
}

void meta(Writer& w, const RunReport& r) {
  key(w, "meta");
  w.begin_object();
  str(w, "scenario", r.scenario);
  str(w, "description", r.description);
  str(w, "spec_path", r.spec_path);
  str(w, "environment_path", r.environment_path);
  key(w, "seed");
  w.value(static_cast<uint64_t>(r.seed));
  str(w, "plan_hash", r.plan_hash);
  str(w, "schedule_sha256", r.schedule_sha256);
  key(w, "arrivals");
  w.value(static_cast<uint64_t>(r.arrivals));
  str(w, "tag", r.tag);
  num(w, "base_rate", r.base_rate);
  us(w, "planned_duration_us", r.planned_duration);
  us(w, "actual_duration_us", r.actual_duration);
  str(w, "started_at", r.started_at);
  str(w, "ended_at", r.ended_at);
  i64(w, "plan_zero_unix_ms", r.plan_zero_unix_ms);
  key(w, "observe");
  w.begin_object();
  str(w, "source", r.observe_source);
  if (!r.observe_url.empty()) str(w, "url", r.observe_url);
  if (!r.observe_match.empty()) str(w, "match", r.observe_match);
  w.end_object();
  if (r.load_threads > 0) {
    key(w, "load_threads");
    w.value(static_cast<uint64_t>(r.load_threads));
  }
  str(w, "faultline_version", r.faultline_version);
  str(w, "command_line", r.command_line);
  str(w, "host", r.host);
  key(w, "overrides");
  w.begin_object();
  for (const auto& [k, v] : r.overrides) str(w, k, v);
  w.end_object();
  key(w, "services");
  w.begin_array();
  for (const auto& s : r.services) {
    w.begin_object();
    str(w, "name", s.name);
    str(w, "url", s.url);
    boolean(w, "started_here", s.started_here);
    i64(w, "pid", s.pid);
    str(w, "log", s.log);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

void phases(Writer& w, const RunReport& r) {
  key(w, "phases");
  w.begin_array();
  for (const auto& p : r.phases) {
    w.begin_object();
    str(w, "name", p.name);
    us(w, "start_us", p.start);
    us(w, "end_us", p.end);
    num(w, "planned_rate_from", p.planned_rate_from);
    num(w, "planned_rate_to", p.planned_rate_to);
    num(w, "planned_requests", p.planned_requests);
    key(w, "faults");
    w.begin_object();
    for (const auto& [svc, knobs] : p.faults) raw_json(w, svc, knobs);
    w.end_object();
    key(w, "client");
    traffic(w, p.client);
    key(w, "send_lateness_ms");
    w.begin_object();
    i64(w, "count", p.send_lateness.count);
    opt(w, "p50", p.send_lateness.p50_ms);
    opt(w, "p99", p.send_lateness.p99_ms);
    opt(w, "max", p.send_lateness.max_ms);
    w.end_object();
    boolean(w, "client_lagging", p.send_lateness.client_lagging);
    key(w, "routes");
    w.begin_object();
    for (const auto& [name, t] : p.routes) {
      key(w, name);
      traffic(w, t);
    }
    w.end_object();
    key(w, "server");
    w.begin_object();
    for (const auto& s : p.server) {
      key(w, s.service);
      w.begin_object();
      for (const auto& [name, v] : s.values) num(w, name, v);
      w.end_object();
    }
    w.end_object();
    w.end_object();
  }
  w.end_array();
}

void faults(Writer& w, const RunReport& r) {
  key(w, "fault_events");
  w.begin_array();
  for (const auto& e : r.fault_events) {
    w.begin_object();
    us(w, "at_us", e.at);
    str(w, "phase", e.phase);
    str(w, "kind", e.kind);
    str(w, "target", e.target);
    str(w, "action", e.action);
    raw_json(w, "state", e.state_json.empty() ? "{}" : e.state_json);
    boolean(w, "ok", e.ok);
    i64(w, "status", e.status);
    str(w, "error", e.error);
    us(w, "call_latency_us", e.call_latency);
    if (e.ready_after.count() > 0) us(w, "ready_after_us", e.ready_after);
    w.end_object();
  }
  w.end_array();
  boolean(w, "faults_undone", r.faults_undone);
}

void scrape_failures(Writer& w, const RunReport& r) {
  key(w, "scrape_failures");
  w.begin_array();
  for (const auto& f : r.scrape_failures) {
    w.begin_object();
    str(w, "service", f.service);
    i64(w, "count", f.count);
    key(w, "first");
    w.begin_array();
    for (const auto& e : f.first) {
      w.begin_object();
      us(w, "at_us", e.at);
      str(w, "reason", e.reason);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
}

void hooks(Writer& w, const RunReport& r) {
  key(w, "hooks");
  w.begin_array();
  for (const auto& h : r.hooks) {
    w.begin_object();
    str(w, "name", h.name);
    str(w, "stage", h.stage);
    str(w, "kind", h.kind);
    boolean(w, "ok", h.ok);
    i64(w, "attempts", h.attempts);
    if (h.kind == "exec")
      i64(w, "exit_code", h.exit_code);
    else
      i64(w, "http_status", h.http_status);
    us(w, "elapsed_us", h.elapsed);
    str(w, "error", h.error);
    str(w, "output", h.output_file);
    w.end_object();
  }
  w.end_array();
}

void id_set(Writer& w, std::string_view k, const judge::IdSet& set) {
  key(w, k);
  w.begin_object();
  i64(w, "count", set.count);
  strings(w, "examples", set.examples);
  w.end_object();
}

void history(Writer& w, const RunReport& r) {
  key(w, "history");
  if (!r.history) {
    w.null();
    return;
  }
  const judge::IdHistory& h = *r.history;
  w.begin_object();
  str(w, "source_hook", h.source_hook);
  i64(w, "acknowledged", h.acknowledged);
  i64(w, "applied", h.applied);
  i64(w, "ack_missing", h.ack_missing);
  id_set(w, "lost", h.lost);
  id_set(w, "duplicated", h.duplicated);
  id_set(w, "unexpected", h.unexpected);
  w.end_object();
}

void assertions(Writer& w, const RunReport& r) {
  key(w, "assertions");
  w.begin_array();
  for (const auto& a : r.assertions) {
    w.begin_object();
    str(w, "text", a.text);
    str(w, "canonical", a.canonical);
    str(w, "status", judge::to_string(a.status));
    str(w, "window", a.window);
    us(w, "window_start_us", a.window_start);
    us(w, "window_end_us", a.window_end);
    str(w, "expected", a.expected);
    str(w, "message", a.message);
    str(w, "source", a.source);
    key(w, "observed");
    w.begin_array();
    for (const auto& o : a.observed) {
      w.begin_object();
      str(w, "what", o.what);
      str(w, "window", o.window);
      opt(w, "value", o.value);
      str(w, "display", o.display);
      i64(w, "samples", o.samples);
      str(w, "note", o.note);
      w.end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
}

void requests(Writer& w, const RunReport& r) {
  key(w, "slowest_requests");
  w.begin_array();
  for (const auto& s : r.slowest) {
    w.begin_object();
    key(w, "seq");
    w.value(static_cast<uint64_t>(s.seq));
    str(w, "request_id", s.request_id);
    str(w, "trace_id", s.trace_id);
    str(w, "route", s.route);
    str(w, "method", s.method);
    str(w, "path", s.path);
    str(w, "phase", s.phase);
    i64(w, "status", s.status);
    str(w, "error_class", s.error_class);
    us(w, "intended_us", s.intended);
    us(w, "latency_us", s.latency);
    w.end_object();
  }
  w.end_array();
  key(w, "error_signatures");
  w.begin_array();
  for (const auto& e : r.error_signatures) {
    w.begin_object();
    str(w, "signature", e.signature);
    i64(w, "count", e.count);
    str(w, "example_request_id", e.example_request_id);
    w.end_object();
  }
  w.end_array();
  key(w, "hints");
  w.begin_object();
  strings(w, "request_ids", r.hint_request_ids);
  strings(w, "trace_ids", r.hint_trace_ids);
  str(w, "how",
      "grep a request id in the bundle's service logs and samples; the trace ids are "
      "the W3C traceparent trace ids the requests carried");
  w.end_object();
}

}  // namespace

std::string report_to_json(const RunReport& r) {
  JsonOut w;
  w.begin_object();
  i64(w, "schema_version", kReportSchemaVersion);
  str(w, "status", run_status_name(r.status));
  i64(w, "exit_code", r.exit_code);
  str(w, "status_detail", r.status_detail);
  meta(w, r);
  phases(w, r);
  faults(w, r);
  scrape_failures(w, r);
  hooks(w, r);
  history(w, r);
  assertions(w, r);
  key(w, "replay");
  w.begin_object();
  boolean(w, "is_replay", !r.replay_of.empty());
  str(w, "source_artifact", r.replay_of);
  str(w, "source_schedule_sha256", r.replay_source_schedule_sha256);
  boolean(w, "schedule_matched", r.replay_schedule_matched);
  w.end_object();
  key(w, "abort");
  w.begin_object();
  boolean(w, "triggered", !r.abort_condition.empty());
  str(w, "condition", r.abort_condition);
  us(w, "at_us", r.aborted_at);
  w.end_object();
  requests(w, r);
  key(w, "bundle");
  w.begin_object();
  str(w, "dir", r.bundle_dir);
  strings(w, "files", r.bundle_files);
  w.end_object();
  w.end_object();
  return w.text() + "\n";
}

}  // namespace faultline
