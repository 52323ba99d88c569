#include "report/summary.h"

#include <algorithm>
#include <cmath>

#include "common/term_color.h"
#include "judge/evaluator.h"
#include "observe/utf8.h"
#include "plan/arrival_stream.h"
#include "report/junit.h"
#include "report/redact.h"

namespace faultline {

namespace {

// Server figures a phase summary shows when the target exposes them (the fault contract's
// reference metric names, docs/fault-contract.md). Quantiles in ms, the rest as scraped.
struct ServerFigure {
  const char* label;
  const char* function;
  const char* metric;
};
constexpr ServerFigure kServerFigures[] = {
    {"http_p50_ms", "p50", "http_request_duration_seconds"},
    {"http_p95_ms", "p95", "http_request_duration_seconds"},
    {"http_p99_ms", "p99", "http_request_duration_seconds"},
    {"http_requests", "increase", "http_requests_total"},
    {"in_flight_max", "max", "http_requests_in_flight"},
    {"pool_saturation_max", "max", "worker_pool_saturation_ratio"},
    {"pool_busy_threads_max", "max", "worker_pool_busy_threads"},
    {"queue_depth_max", "max", "queue_depth"},
    {"queue_depth_last", "last", "queue_depth"},
    {"dlq_depth_max", "max", "dead_letter_queue_depth"},
    {"jobs_processed", "increase", "jobs_processed_total"},
    {"jobs_failed", "increase", "jobs_failed_total"},
    {"jobs_dead_lettered", "increase", "jobs_dead_lettered_total"},
    {"ready_min", "min", "service_ready"},
};

std::optional<double> ms(double us) {
  if (std::isnan(us)) return std::nullopt;
  return us / 1000.0;
}

LatencySummary latency_summary(const observe::LatencyHistogram& h) {
  LatencySummary l;
  l.count = static_cast<int64_t>(h.count());
  if (h.count() == 0) return l;
  l.p50_ms = ms(h.quantile_us(0.5));
  l.p95_ms = ms(h.quantile_us(0.95));
  l.p99_ms = ms(h.quantile_us(0.99));
  l.max_ms = ms(static_cast<double>(h.max_us()));
  l.mean_ms = ms(h.mean_us());
  return l;
}

SendLateness send_lateness_summary(const observe::LatencyHistogram& h,
                                   const LatencySummary& latency) {
  SendLateness l;
  l.count = static_cast<int64_t>(h.count());
  if (h.count() == 0) return l;
  l.p50_ms = ms(h.quantile_us(0.5));
  l.p99_ms = ms(h.quantile_us(0.99));
  l.max_ms = ms(static_cast<double>(h.max_us()));
  l.client_lagging = is_client_lagging(l, latency);
  return l;
}

// Reasons come from the target's bytes (an HTTP body excerpt) and go into JSON and terminals:
// kept short and valid UTF-8, secrets redacted.
std::string safe_reason(std::string_view reason) {
  constexpr size_t kMaxBytes = 300;
  std::string out = redact_secrets(reason);
  if (!observe::is_valid_utf8(out)) {
    for (char& c : out)
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
  }
  if (out.size() > kMaxBytes) {
    size_t cut = kMaxBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;
    out.resize(cut);
    out += "...";
  }
  return out;
}

TrafficSummary traffic_summary(const observe::ClientStats& stats, observe::ClientSelection sel,
                               double seconds) {
  TrafficSummary t;
  const int64_t aborted = static_cast<int64_t>(stats.aborted(sel));
  t.sent = static_cast<int64_t>(stats.count(sel)) + aborted;
  t.dropped = static_cast<int64_t>(stats.dropped(sel));
  auto count_of = [&](const char* outcome) {
    observe::ClientSelection s = sel;
    s.outcomes = {observe::OutcomeSelector::parse(outcome)};
    return static_cast<int64_t>(stats.count(s));
  };
  int64_t responses = 0;
  for (const char* cls : {"1xx", "2xx", "3xx", "4xx", "5xx"}) {
    const int64_t n = count_of(cls);
    responses += n;
    if (n) t.by_status_class[cls] = n;
  }
  t.completed = responses;
  for (const char* cls : {"timeout", "refused", "reset", "dns", "other"}) {
    const int64_t n = count_of(cls);
    if (n) t.by_error_class[cls] = n;
  }
  // Aborted (in flight when faultline's stop ended the run) and dropped are faultline's doing:
  // listed, but in neither the error rate nor the latency.
  if (aborted) t.by_error_class["aborted"] = aborted;
  if (t.dropped) t.by_error_class["dropped"] = t.dropped;
  t.error_rate = t.sent > aborted ? stats.error_rate(sel) : 0.0;
  t.achieved_rps = seconds > 0 ? static_cast<double>(t.sent) / seconds : 0;
  t.latency = latency_summary(stats.latency(sel));
  return t;
}

std::string trace_id_of(uint64_t seed, uint64_t seq) {
  const std::string tp = traceparent_for(seed, seq);
  return tp.substr(3, 32);
}

AssertionReport to_assertion_report(const PlannedStatement& stmt, const judge::Verdict& v) {
  AssertionReport a;
  a.text = stmt.text;
  a.canonical = v.statement;
  a.status = v.status;
  a.expected = v.expected;
  a.message = v.message;
  a.source = stmt.loc.str();
  if (!v.windows.empty()) {
    a.window = v.windows[0].label;
    a.window_start = v.windows[0].start;
    a.window_end = v.windows[0].end;
  }
  for (const auto& op : v.operands) {
    ObservedValue o;
    o.what = op.what;
    o.window = op.window.label;
    o.value = op.observed.value;
    o.display = op.value_text;
    o.samples = op.observed.sample_count;
    // Without a value the source's note says why (failed scrapes, no series): the traffic
    // guard is beside the point then. With one: the guard if it applied, the source's remark
    // (buckets fixed up) and the failed scrapes the value had to do without.
    std::vector<std::string> notes;
    if (op.observed.value && op.below_guard())
      notes.push_back("below the traffic guard (" + std::to_string(op.observed.sample_count) +
                      " < " + std::to_string(op.required_samples) + " " + op.sample_noun + ")");
    if (!op.observed.note.empty()) notes.push_back(op.observed.note);
    if (!op.observed.failures.empty() &&
        op.observed.note.find(op.observed.failures) == std::string::npos)
      notes.push_back(op.observed.failures);
    for (const auto& n : notes) o.note += (o.note.empty() ? "" : "; ") + n;
    a.observed.push_back(std::move(o));
  }
  return a;
}

}  // namespace

bool is_client_lagging(const SendLateness& lateness, const LatencySummary& latency) {
  if (lateness.count == 0 || !lateness.p99_ms) return false;
  const double share = latency.p99_ms ? kClientLagShare * *latency.p99_ms : 0.0;
  return *lateness.p99_ms > std::max(kClientLagFloorMs, share);
}

void summarize_scrape_failures(RunReport& report, const Plan& plan,
                               const observe::ScrapeStore& scrapes) {
  std::vector<std::string> jobs;
  for (const auto& target : plan.scrape_targets)
    if (std::find(jobs.begin(), jobs.end(), target.service) == jobs.end())
      jobs.push_back(target.service);
  for (const auto& job : scrapes.jobs())
    if (std::find(jobs.begin(), jobs.end(), job) == jobs.end()) jobs.push_back(job);
  for (const auto& job : jobs) {
    const auto& failures = scrapes.failures(job);
    if (failures.empty()) continue;
    ScrapeFailureReport r;
    r.service = job;
    r.count = static_cast<int64_t>(failures.size());
    for (size_t i = 0; i < failures.size() && i < ScrapeFailureReport::kMaxListed; ++i)
      r.first.push_back({failures[i].at, safe_reason(failures[i].error)});
    report.scrape_failures.push_back(std::move(r));
  }
}

std::vector<AssertionReport> judge_assertions(const Plan& plan, const judge::MetricSource& source) {
  const judge::JudgeOptions options = judge::judge_options(plan);
  std::vector<AssertionReport> out;
  for (const auto& stmt : plan.assertions)
    out.push_back(
        to_assertion_report(stmt, judge::evaluate(*stmt.parsed, plan.phases, source, options)));
  return out;
}

RunStatus status_of(const std::vector<AssertionReport>& assertions) {
  bool fail = false, inconclusive = false;
  for (const auto& a : assertions) {
    fail |= a.status == judge::VerdictStatus::kFail;
    inconclusive |= a.status == judge::VerdictStatus::kInconclusive;
  }
  return fail ? RunStatus::kFailed : inconclusive ? RunStatus::kInconclusive : RunStatus::kPassed;
}

void print_assertions(std::FILE* out, const std::vector<AssertionReport>& assertions) {
  const bool color = use_color(out);
  if (!assertions.empty()) std::fprintf(out, "\nassertions:\n");
  for (const auto& a : assertions) {
    const char* tag = a.status == judge::VerdictStatus::kPass   ? "PASS"
                      : a.status == judge::VerdictStatus::kFail ? "FAIL"
                                                                : "INCONCLUSIVE";
    const char* code = a.status == judge::VerdictStatus::kPass   ? sgr::kGreen
                       : a.status == judge::VerdictStatus::kFail ? sgr::kRed
                                                                 : sgr::kYellow;
    std::fprintf(out, "  %s %s\n", paint(tag, code, color).c_str(), a.text.c_str());
    if (a.status != judge::VerdictStatus::kPass)
      std::fprintf(out, "       %s\n", a.message.c_str());
  }
}

std::string look_first_at(const std::vector<AssertionReport>& assertions) {
  // A failure says more than an inconclusive verdict (which usually means too little traffic).
  for (const auto want : {judge::VerdictStatus::kFail, judge::VerdictStatus::kInconclusive}) {
    for (const auto& a : assertions) {
      if (a.status != want) continue;
      std::string line =
          std::string(want == judge::VerdictStatus::kFail ? "FAIL " : "INCONCLUSIVE ") + a.text;
      const std::string observed = observed_text(a);
      if (!observed.empty()) line += ", observed " + observed;
      if (!a.source.empty()) line += " (" + a.source + ")";
      return line;
    }
  }
  return "";
}

std::string look_first_at(const RunReport& r) {
  if (!r.abort_condition.empty())
    return "abort_if " + r.abort_condition + " fired at " + format_duration(r.aborted_at);
  if (r.status == RunStatus::kEnvironmentError || r.status == RunStatus::kInterrupted)
    return r.status_detail.empty() ? std::string(run_status_name(r.status)) : r.status_detail;
  return look_first_at(r.assertions);
}

void summarize_run(RunReport& report, const Plan& plan, const judge::MetricSource& source,
                   const observe::ClientStats& stats, bool judge) {
  if (judge) report.assertions = judge_assertions(plan, source);
  if (report.status == RunStatus::kPassed) {
    report.status = status_of(report.assertions);
    if (plan.assertions.empty())
      report.status_detail = "the scenario has no assertions: nothing was claimed";
  }

  // Phases.
  std::map<std::string, std::map<std::string, std::string>> faults_by_phase;
  {
    std::map<std::string, std::string> held;
    size_t step = 0;
    for (const auto& p : plan.phases) {
      // What the phase starts with, plus every fault a schedule turns on inside it.
      auto key = [](const FaultStep& f) {
        return f.kind == "knobs" ? f.target : f.kind + ":" + f.target;
      };
      while (step < plan.fault_steps.size() && plan.fault_steps[step].at <= p.start) {
        const auto& f = plan.fault_steps[step++];
        if (f.is_reset())
          held.erase(key(f));
        else
          held[key(f)] = f.state_json;
      }
      std::map<std::string, std::string> during = held;
      while (step < plan.fault_steps.size() && plan.fault_steps[step].at < p.end) {
        const auto& f = plan.fault_steps[step++];
        if (f.is_reset()) {
          held.erase(key(f));
        } else {
          held[key(f)] = f.state_json;
          during[key(f)] = f.state_json;
        }
      }
      faults_by_phase[p.name] = during;
    }
  }
  for (const auto& p : plan.phases) {
    PhaseReport pr;
    pr.name = p.name;
    pr.start = p.start;
    pr.end = p.end;
    pr.planned_rate_from = p.rate_from;
    pr.planned_rate_to = p.rate_to;
    pr.planned_requests = p.expected_requests();
    pr.faults = faults_by_phase[p.name];
    const double seconds = std::chrono::duration<double>(p.length()).count();
    observe::ClientSelection sel;
    sel.phases = {p.name};
    pr.client = traffic_summary(stats, sel, seconds);
    pr.send_lateness = send_lateness_summary(stats.send_lateness(sel), pr.client.latency);
    for (const auto& r : plan.routes) {
      observe::ClientSelection rs = sel;
      rs.routes = {r.name};
      pr.routes[r.name] = traffic_summary(stats, rs, seconds);
    }
    const judge::TimeWindow window{p.start, p.end, "during(" + p.name + ")"};
    for (const auto& target : plan.scrape_targets) {
      ServerSummary s;
      s.service = target.service;
      for (const auto& fig : kServerFigures) {
        judge::ServerQuery q;
        q.function = fig.function;
        q.metric_name = fig.metric;
        q.matchers.push_back({"job", "=", target.service});
        const judge::Observed o = source.server(window, q);
        if (!o.value) continue;
        const bool quantile = fig.function[0] == 'p';
        s.values[fig.label] = quantile ? *o.value * 1000.0 : *o.value;
      }
      pr.server.push_back(std::move(s));
    }
    report.phases.push_back(std::move(pr));
  }

  // Slowest requests, error signatures, hints.
  for (const auto& s : stats.slowest().slowest_first()) {
    SlowRequest r;
    r.seq = s.seq;
    r.request_id = s.request_id;
    r.trace_id = trace_id_of(plan.seed, s.seq);
    r.route = s.route;
    r.method = s.method;
    r.path = redact_secrets(s.path);
    r.phase = s.phase;
    r.status = s.status;
    r.error_class = s.error_class;
    r.intended = Duration{s.intended_us};
    r.latency = Duration{s.latency_us};
    report.slowest.push_back(std::move(r));
  }
  for (const auto& e : stats.error_signatures().most_frequent()) {
    if (report.error_signatures.size() >= 20) break;
    report.error_signatures.push_back(
        {redact_secrets(e.signature), static_cast<int64_t>(e.count), e.first_request_id});
  }
  for (size_t i = 0; i < report.slowest.size() && i < 10; ++i) {
    report.hint_request_ids.push_back(report.slowest[i].request_id);
    report.hint_trace_ids.push_back(report.slowest[i].trace_id);
  }
  for (const auto& e : report.error_signatures) {
    if (e.example_request_id.empty()) continue;
    if (std::find(report.hint_request_ids.begin(), report.hint_request_ids.end(),
                  e.example_request_id) == report.hint_request_ids.end())
      report.hint_request_ids.push_back(e.example_request_id);
  }
}

void print_summary(std::FILE* out, const RunReport& r, const std::string& artifact) {
  auto cell_ms = [](const std::optional<double>& v) {
    char buf[32];
    if (!v) return std::string("-");
    std::snprintf(buf, sizeof buf, *v < 10 ? "%.1fms" : "%.0fms", *v);
    return std::string(buf);
  };
  // "0.1/0.9/12ms": send lateness p50/p99/max, one unit for the three.
  auto cell_lateness = [](const SendLateness& l) {
    if (l.count == 0 || !l.p50_ms || !l.p99_ms || !l.max_ms) return std::string("-");
    std::string cell;
    for (double v : {*l.p50_ms, *l.p99_ms, *l.max_ms}) {
      char buf[32];
      std::snprintf(buf, sizeof buf, v < 10 ? "%.1f" : "%.0f", v);
      cell += (cell.empty() ? "" : "/") + std::string(buf);
    }
    return cell + "ms";
  };
  std::fprintf(out, "\n%-10s %-13s %9s %9s %7s %7s %8s %8s %8s %7s  %-s\n", "phase", "window",
               "planned/s", "sent/s", "sent", "dropped", "p50", "p95", "p99", "errors",
               "send late p50/p99/max");
  std::vector<std::string> lagging;
  for (const auto& p : r.phases) {
    char window[32], planned[32], achieved[32], err[32];
    std::snprintf(window, sizeof window, "%s-%s", format_duration(p.start).c_str(),
                  format_duration(p.end).c_str());
    if (p.planned_rate_from == p.planned_rate_to)
      std::snprintf(planned, sizeof planned, "%.1f", p.planned_rate_from);
    else
      std::snprintf(planned, sizeof planned, "%.0f->%.0f", p.planned_rate_from, p.planned_rate_to);
    std::snprintf(achieved, sizeof achieved, "%.1f", p.client.achieved_rps);
    std::snprintf(err, sizeof err, "%.1f%%", p.client.error_rate * 100);
    std::fprintf(out, "%-10s %-13s %9s %9s %7lld %7lld %8s %8s %8s %7s  %s%s\n", p.name.c_str(),
                 window, planned, achieved, static_cast<long long>(p.client.sent),
                 static_cast<long long>(p.client.dropped), cell_ms(p.client.latency.p50_ms).c_str(),
                 cell_ms(p.client.latency.p95_ms).c_str(), cell_ms(p.client.latency.p99_ms).c_str(),
                 err, cell_lateness(p.send_lateness).c_str(),
                 p.send_lateness.client_lagging ? " (client lagging)" : "");
    if (p.send_lateness.client_lagging) lagging.push_back(p.name);
  }
  if (!lagging.empty()) {
    std::string names;
    for (const auto& n : lagging) names += (names.empty() ? "" : ", ") + n;
    std::fprintf(out,
                 "client lagging in %s: p99 send lateness above max(%.0fms, %.0f%% of p99 "
                 "latency), so these latencies include faultline's own delay, not only the "
                 "target's\n",
                 names.c_str(), kClientLagFloorMs, kClientLagShare * 100);
  }
  for (const auto& f : r.scrape_failures) {
    if (f.first.empty()) continue;
    std::fprintf(out, "scrapes of %s failed %lld time(s); first at %s: %s\n", f.service.c_str(),
                 static_cast<long long>(f.count), format_duration(f.first.front().at).c_str(),
                 f.first.front().reason.c_str());
  }
  if (r.history) {
    const judge::IdHistory& h = *r.history;
    auto set = [](const char* name, const judge::IdSet& ids) {
      std::string line = std::string(name) + " " + std::to_string(ids.count);
      if (!ids.examples.empty()) {
        line += " (e.g.";
        for (size_t i = 0; i < ids.examples.size() && i < 3; ++i) line += " " + ids.examples[i];
        line += ")";
      }
      return line;
    };
    std::fprintf(out, "ids (verify hook %s): %lld acknowledged, %lld applied; %s, %s, %s%s\n",
                 h.source_hook.c_str(), static_cast<long long>(h.acknowledged),
                 static_cast<long long>(h.applied), set("lost", h.lost).c_str(),
                 set("duplicated", h.duplicated).c_str(), set("unexpected", h.unexpected).c_str(),
                 h.ack_missing > 0
                     ? ("; " + std::to_string(h.ack_missing) + " 2xx without an id").c_str()
                     : "");
  }
  for (const auto& h : r.hooks)
    if (!h.ok)
      std::fprintf(out, "%s hook %s failed: %s\n", h.stage.c_str(), h.name.c_str(),
                   h.error.c_str());
  print_assertions(out, r.assertions);
  if (!r.status_detail.empty()) std::fprintf(out, "\n%s\n", r.status_detail.c_str());
  if (!r.faults_undone)
    std::fprintf(out,
                 "warning: the undo of faults was not confirmed (above): check those services; "
                 "knobs revert on their own when their lease runs out\n");
  const std::string first = look_first_at(r);
  if (!first.empty()) std::fprintf(out, "\nlook first at: %s\n", first.c_str());
  const bool color = use_color(out);
  std::fprintf(out, "\nresult: %s (exit %d)\nartifact: %s\n",
               paint(run_status_name(r.status),
                     r.status == RunStatus::kPassed ? sgr::kGreen : sgr::kRed, color)
                   .c_str(),
               r.exit_code, artifact.c_str());
  std::fflush(out);
}

}  // namespace faultline
