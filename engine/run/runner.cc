#include "run/runner.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/error.h"
#include "common/file_io.h"
#include "common/version.h"
#include "faults/fault_driver.h"
#include "judge/evaluator.h"
#include "observe/sample_log.h"
#include "plan/compiler.h"
#include "recorded/bundle.h"
#include "recorded/recorded_run.h"
#include "recorded/run_observations.h"
#include "report/report_json.h"
#include "report/summary.h"
#include "run/arrival_source.h"
#include "run/load_engine.h"
#include "run/run_report.h"
#include "run/service_launcher.h"
#include "run/stop_signals.h"
#include "spec/diagnostic.h"

namespace faultline {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kScrapeTimeout{2000};
constexpr Duration kStartLead = std::chrono::milliseconds(300);

// Per-arrival facts the engine's samples do not carry, kept from hand-out to completion.
struct ArrivalInfo {
  std::string path;
  uint32_t phase = 0;
};

class Recorder : public SampleSink {
 public:
  Recorder(const Plan& plan, RunObservations& obs, observe::SampleLogWriter& log)
      : plan_(plan), obs_(obs), log_(log) {}

  void remember(const Arrival& a) { pending_[a.seq] = {a.path, a.phase}; }

  void on_sample(const RequestSample& s) override {
    auto it = pending_.find(s.seq);
    record_.seq = s.seq;
    record_.request_id.assign(s.request_id);
    const RouteSpec& route = plan_.routes[s.route];
    record_.route = route.name;
    record_.method = route.method;
    if (it != pending_.end()) {
      record_.path = std::move(it->second.path);
      record_.phase = plan_.phases[it->second.phase].name;
      pending_.erase(it);
    } else {
      record_.path.clear();
      const PhaseWindow* p = plan_.phase_at(Duration{s.intended_us});
      record_.phase = p ? p->name : "";
    }
    record_.intended_us = s.intended_us;
    record_.sent_us = s.sent_us;
    record_.latency_us = s.latency_us;
    record_.status = s.status;
    record_.error_class.assign(s.error_class);
    record_.bytes_in = static_cast<int64_t>(s.bytes_in);
    record_.bytes_out = static_cast<int64_t>(s.bytes_out);
    obs_.record(record_);
    log_.append(record_);
  }

 private:
  const Plan& plan_;
  RunObservations& obs_;
  observe::SampleLogWriter& log_;
  std::unordered_map<uint64_t, ArrivalInfo> pending_;
  observe::SampleRecord record_;
};

std::vector<Duration> all_ticks(const Plan& plan, const std::vector<judge::TimeWindow>& windows) {
  std::set<int64_t> ticks;
  for (const auto& t : plan.scrape_ticks) ticks.insert(t.count());
  for (const auto& p : plan.phases) ticks.insert(p.start.count());
  for (const auto& w : windows) {
    if (w.start >= Duration{0} && w.start <= plan.total) ticks.insert(w.start.count());
    if (w.end >= Duration{0} && w.end <= plan.total) ticks.insert(w.end.count());
  }
  std::vector<Duration> out;
  for (int64_t t : ticks) out.emplace_back(t);
  return out;
}

std::set<std::string> services_needed(const Plan& plan) {
  std::set<std::string> needed{plan.target};
  for (const auto& t : plan.scrape_targets) needed.insert(t.service);
  for (const auto& f : plan.fault_steps) needed.insert(f.service);
  return needed;
}

}  // namespace

RunOutcome run_scenario(const RunOptions& options, std::FILE* out, std::FILE* err) {
  // ---- load, validate, compile (pure; exit 2 on any problem) ----
  const ScenarioLoad load = load_scenario(options.spec_path, options.load);
  for (const auto& d : load.diagnostics)
    std::fprintf(err, "%s\n", format_diagnostic(d, false).c_str());
  if (!load.ok()) return {static_cast<int>(ExitCode::kInvalid), "", "", false};
  const Plan plan = compile_plan(*load.scenario, options.overrides);
  return execute_plan(plan, *load.environment, load.scenario->source_path, options, {}, out, err);
}

RunOutcome execute_plan(const Plan& plan, const Environment& env, const std::string& spec_path,
                        const RunOptions& options, const ReplaySource& replay, std::FILE* out,
                        std::FILE* err) {
  const std::vector<judge::TimeWindow> windows = judging_windows(plan);
  const std::vector<Duration> ticks = all_ticks(plan, windows);

  // ---- artifact and bundle locations ----
  const auto wall_start = std::chrono::system_clock::now();
  const RunFiles files = create_run_files(options.artifacts_dir, plan.scenario_name, wall_start);
  const std::string& artifact = files.artifact;
  const std::string& bundle = files.bundle.dir;
  write_bundle_plan(files.bundle, plan);

  RunReport report = start_report(plan, spec_path, options, files.stem);
  report.replay_of = replay.artifact;
  report.replay_source_schedule_sha256 = replay.schedule_sha256;
  report.started_at = utc_stamp(wall_start, false);
  report.environment_path = env.source_path;
  report.faultline_version = version();

  StopSignals signals;
  ProgressPrinter progress(options.progress, out);
  if (!progress.quiet())
    std::fprintf(out, "faultline: %s, seed %llu, plan %s, %s of traffic\n",
                 plan.scenario_name.c_str(), static_cast<unsigned long long>(plan.seed),
                 plan.plan_hash.substr(0, 12).c_str(), format_duration(plan.total).c_str());

  ServiceLauncher launcher(env, files.bundle.logs_dir());
  std::vector<FaultEndpoint> endpoints;
  std::optional<FaultDriver> faults;
  RunObservations obs(plan, windows, plan.metrics_of_interest);
  std::optional<LoadEngine> engine;
  std::optional<observe::SampleLogWriter> sample_log;
  std::optional<observe::ScrapeLogWriter> scrape_log;
  std::optional<Recorder> recorder;
  std::optional<ArrivalSource> source;
  std::atomic<int64_t> scrapes_outstanding{0};
  Duration elapsed{0};
  bool environment_failed = false;
  bool aborted = false;

  auto finish_environment_error = [&](const std::string& why) {
    environment_failed = true;
    report.status = RunStatus::kEnvironmentError;
    report.status_detail = why;
    std::fprintf(err, "faultline run: %s\n", why.c_str());
  };

  try {
    // ---- environment and preflight: nothing is injected before both pass ----
    if (!progress.quiet()) std::fprintf(out, "starting services of %s\n", env.source_path.c_str());
    launcher.start(services_needed(plan));
    for (const auto& s : launcher.services()) {
      const ServiceSpec* spec = env.find(s->name);
      endpoints.push_back({s->name, s->url, spec ? spec->fault_token : ""});
    }
    record_services(report, launcher, bundle);
    faults.emplace(endpoints, options.lease);
    faults->preflight(plan);
    if (signals.received()) throw Error(ExitCode::kInterrupted, "interrupted before traffic");

    // ---- traffic, scrapes, faults ----
    sample_log.emplace(files.bundle.samples());
    scrape_log.emplace(files.bundle.scrape_log());
    obs.record_scrapes_to(&*scrape_log);
    recorder.emplace(plan, obs, *sample_log);
    source.emplace(plan, launcher.get(plan.target).url,
                   [&](const Arrival& a) { recorder->remember(a); });
    LoadEngineOptions lo;
    lo.max_in_flight = static_cast<uint32_t>(std::max(1, plan.max_in_flight));
    lo.request_timeout = plan.request_timeout;
    lo.stop_drain = std::min<Duration>(plan.request_timeout, std::chrono::seconds(5));
    engine.emplace(lo);

    const auto origin = Clock::now() + kStartLead;
    for (size_t i = 0; i < ticks.size(); ++i) {
      for (const auto& target : plan.scrape_targets) {
        HttpRequest req;
        req.url = launcher.get(target.service).url + target.path;
        req.timeout = kScrapeTimeout;
        const bool boundary = std::any_of(plan.phases.begin(), plan.phases.end(), [&](auto& p) {
          return p.start == ticks[i] || p.end == ticks[i];
        });
        ++scrapes_outstanding;
        engine->submit_at(ticks[i], std::move(req),
                          [&, i, boundary, job = target.service](SideCompletion&& c) {
                            if (c.response.error.empty() && c.response.status == 200) {
                              if (boundary)
                                save_scrape_snapshot(files.bundle, job, ticks[i], c.response.body);
                              obs.scrape_done(job, i, ticks, std::move(c.response.body), "");
                            } else {
                              obs.scrape_done(job, i, ticks, std::nullopt,
                                              c.response.error.empty()
                                                  ? "HTTP " + std::to_string(c.response.status)
                                                  : c.response.error);
                            }
                            --scrapes_outstanding;
                          });
      }
    }
    size_t next_step = 0;
    // Steps at plan time 0 are applied before the first request goes out.
    while (next_step < plan.fault_steps.size() && plan.fault_steps[next_step].at == Duration{0}) {
      const FaultEvent& ev = faults->apply(plan.fault_steps[next_step++], Duration{0});
      if (!ev.ok)
        throw EnvironmentError("applying faults to '" + ev.service + "' failed: " + ev.error);
    }
    engine->start(origin, *source, *recorder);

    const judge::JudgeOptions judge_options{plan.tolerance, plan.guard};
    Duration next_check{std::chrono::seconds(1)};
    uint64_t last_arrivals = 0;
    Duration last_progress{0};
    while (true) {
      elapsed = std::chrono::duration_cast<Duration>(Clock::now() - origin);
      if (signals.received()) {
        report.status = RunStatus::kInterrupted;
        report.status_detail = std::string("interrupted by ") +
                               (signals.received() == SIGINT ? "SIGINT" : "SIGTERM") + " at " +
                               format_duration(std::max(elapsed, Duration{0}));
        engine->request_stop(StopMode::kAbort);
        break;
      }
      while (next_step < plan.fault_steps.size() && plan.fault_steps[next_step].at <= elapsed) {
        const FaultStep& step = plan.fault_steps[next_step++];
        const FaultEvent& ev = faults->apply(step, elapsed);
        // A fault that cannot be applied means the incident cannot be reproduced; a reset
        // that fails is recorded and left to the service's lease.
        if (!ev.ok && !step.is_reset())
          throw EnvironmentError("applying faults to '" + ev.service + "' failed: " + ev.error);
        if (!ev.ok)
          std::fprintf(err, "faultline run: resetting '%s' failed (%s); its lease reverts it\n",
                       ev.service.c_str(), ev.error.c_str());
      }
      faults->renew(elapsed);
      if (elapsed >= next_check) {
        next_check += std::chrono::seconds(1);
        for (size_t i = 0; i < plan.abort_if.size(); ++i) {
          auto v = judge::evaluate_abort_if(*plan.abort_if[i].parsed, plan.phases, elapsed, obs,
                                            judge_options);
          if (v && v->status == judge::VerdictStatus::kPass) {
            aborted = true;
            report.abort_condition = plan.abort_if[i].text;
            report.aborted_at = elapsed;
            report.status_detail =
                "abort_if fired at " + format_duration(elapsed) + ": " + v->message;
          }
        }
        if (aborted) {
          engine->request_stop(StopMode::kDrain);
          break;
        }
        const LoadCounters c = engine->counters();
        const PhaseWindow* phase = plan.phase_at(elapsed);
        ProgressSnapshot snap;
        snap.phase = phase ? phase->name : "end";
        snap.elapsed = elapsed;
        snap.total = plan.total;
        if (phase) {
          const double f = std::chrono::duration<double>(elapsed - phase->start) /
                           std::chrono::duration<double>(phase->length());
          snap.planned_rate = phase->rate_from + (phase->rate_to - phase->rate_from) * f;
          std::tie(snap.p95_s, snap.error_rate) = obs.live_phase(phase->name);
        }
        const double dt = std::chrono::duration<double>(elapsed - last_progress).count();
        snap.achieved_rate = dt > 0 ? static_cast<double>(c.arrivals - last_arrivals) / dt : 0;
        last_arrivals = c.arrivals;
        last_progress = elapsed;
        snap.in_flight = c.in_flight;
        snap.dropped = c.dropped;
        snap.sent = c.sent;
        progress.update(snap);
      }
      if (elapsed >= plan.total && engine->traffic_done() && next_step >= plan.fault_steps.size())
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    progress.finish();
    // The last scrape (at the end of the last phase) completes the server-side picture.
    if (report.status != RunStatus::kInterrupted && !aborted) {
      const auto deadline = Clock::now() + kScrapeTimeout + std::chrono::seconds(1);
      while (scrapes_outstanding > 0 && Clock::now() < deadline && !signals.received())
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  } catch (const EnvironmentError& e) {
    progress.finish();
    finish_environment_error(e.what());
  } catch (const Error& e) {
    progress.finish();
    if (e.code() != ExitCode::kInterrupted) throw;
    report.status = RunStatus::kInterrupted;
    report.status_detail = e.what();
  } catch (const observe::SampleLogError& e) {
    progress.finish();
    finish_environment_error(std::string("sample log: ") + e.what());
  }

  // ---- cleanup: faults first (services must be up to take the reset), then load, services ----
  if (faults) {
    const bool undone =
        faults->undo_all(elapsed, report.status == RunStatus::kInterrupted ? "undo after interrupt"
                                  : aborted                                ? "undo after abort"
                                                                           : "undo at end");
    report.faults_undone = undone;
    record_fault_events(report, faults->events());
  }
  LoadRunResult load_result;
  if (engine) {
    try {
      load_result = engine->finish();
    } catch (const std::exception& e) {
      finish_environment_error(std::string("load engine: ") + e.what());
    }
  }
  obs.record_scrapes_to(nullptr);
  try {
    if (sample_log) sample_log->close();
    if (scrape_log) scrape_log->close();
  } catch (const std::exception& e) {
    std::fprintf(err, "faultline run: writing the bundle: %s\n", e.what());
  }
  launcher.stop_all();
  report.actual_duration = std::max(elapsed, Duration{0});
  report.ended_at = utc_stamp(std::chrono::system_clock::now(), false);
  if (source) {
    report.schedule_sha256 = source->schedule_sha256();
    report.arrivals = source->handed_out();
  }
  if (!replay.artifact.empty()) {
    report.replay_schedule_matched = report.schedule_sha256 == replay.schedule_sha256;
    if (!report.replay_schedule_matched)
      std::fprintf(err,
                   "faultline replay: the schedule sent (%llu arrivals, sha256 %.12s) differs from "
                   "the recorded one (%llu arrivals, sha256 %.12s)%s\n",
                   static_cast<unsigned long long>(report.arrivals), report.schedule_sha256.c_str(),
                   static_cast<unsigned long long>(replay.arrivals), replay.schedule_sha256.c_str(),
                   replay.arrivals != report.arrivals
                       ? ": one of the runs ended early (interrupted or aborted)"
                       : "");
  }

  // ---- judge and report ----
  summarize_run(report, plan, obs, obs.client_stats(),
                !environment_failed || report.actual_duration > Duration{0});
  if (report.status == RunStatus::kPassed || report.status == RunStatus::kFailed ||
      report.status == RunStatus::kInconclusive) {
    if (aborted) report.status = RunStatus::kAborted;
  }
  switch (report.status) {
    case RunStatus::kPassed:
      report.exit_code = 0;
      break;
    case RunStatus::kFailed:
    case RunStatus::kInconclusive:
    case RunStatus::kAborted:
      report.exit_code = 1;
      break;
    case RunStatus::kInterrupted:
      report.exit_code = 130;
      break;
    case RunStatus::kEnvironmentError:
      report.exit_code = 3;
      break;
  }
  report.bundle_files = list_bundle_files(files.bundle);
  write_file_atomically(artifact, report_to_json(report));
  print_summary(out, report, artifact);
  return {report.exit_code, artifact, report.schedule_sha256, report.replay_schedule_matched};
}

}  // namespace faultline
