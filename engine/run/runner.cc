#include "run/runner.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "common/error.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/version.h"
#include "faults/exec_driver.h"
#include "faults/knob_driver.h"
#include "faults/process_driver.h"
#include "faults/proxy_driver.h"
#include "plan/compiler.h"
#include "recorded/bundle.h"
#include "recorded/recorded_run.h"
#include "recorded/run_observations.h"
#include "recorded/shards.h"
#include "report/report_json.h"
#include "report/summary.h"
#include "run/arrival_source.h"
#include "run/hooks.h"
#include "run/load_engine.h"
#include "run/prometheus_pull.h"
#include "run/recording.h"
#include "run/run_report.h"
#include "run/run_session.h"
#include "run/service_launcher.h"
#include "run/stop_signals.h"
#include "spec/diagnostic.h"

namespace faultline {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kScrapeTimeout{2000};

// Plan time from the steady clock.
class SteadyClock : public SessionClock {
 public:
  void start(Duration lead) override { origin_ = Clock::now() + lead; }
  Duration now() const override {
    return std::chrono::duration_cast<Duration>(Clock::now() - origin_);
  }
  void sleep(Duration d) override { std::this_thread::sleep_for(d); }
  Clock::time_point origin() const { return origin_; }
  // The wall-clock time of plan time 0, Unix milliseconds.
  int64_t zero_unix_ms() const {
    const auto wall =
        std::chrono::system_clock::now() +
        std::chrono::duration_cast<std::chrono::system_clock::duration>(origin_ - Clock::now());
    return std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
  }

 private:
  Clock::time_point origin_ = Clock::now();
};

// The launcher's services, plus the environment's Prometheus when the run observes through
// one it starts (`also`), checked by `after_start` once everything runs.
class LauncherServices : public SessionServices {
 public:
  LauncherServices(ServiceLauncher& launcher, std::string also, std::function<void()> after_start)
      : launcher_(launcher), also_(std::move(also)), after_start_(std::move(after_start)) {}
  void start(const std::set<std::string>& needed,
             const std::function<bool()>& interrupted) override {
    std::set<std::string> all = needed;
    if (!also_.empty()) all.insert(also_);
    launcher_.set_interrupt(interrupted);
    launcher_.start(all);
    launcher_.set_interrupt(nullptr);
    if (after_start_) after_start_();
  }
  std::optional<std::string> exited() override { return launcher_.find_exited(); }
  void stop_all() override { launcher_.stop_all(); }

 private:
  ServiceLauncher& launcher_;
  std::string also_;
  std::function<void()> after_start_;
};

// A scrape at a phase's start or end is kept whole in the bundle as a snapshot.
bool at_phase_edge(const Plan& plan, Duration tick) {
  return std::any_of(plan.phases.begin(), plan.phases.end(),
                     [&](const PhaseWindow& p) { return p.start == tick || p.end == tick; });
}

// The load engine's loop threads: --threads, else traffic.threads, else automatic, one per
// kArrivalsPerLoopThread requests/s of this process's peak rate, at most the machine's cores.
uint32_t load_threads(const Plan& plan, const RunOptions& options) {
  if (options.threads > 0) return options.threads;
  if (plan.threads > 0) return static_cast<uint32_t>(plan.threads);
  double peak = 0;
  for (const auto& p : plan.phases) peak = std::max({peak, p.rate_from, p.rate_to});
  peak /= std::max<uint32_t>(options.shard_count, 1);
  const auto wanted = static_cast<uint32_t>(std::ceil(peak / kArrivalsPerLoopThread));
  const uint32_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::clamp(wanted, 1u, cores);
}

// The load engine with its arrival source and recording; scrapes ride on its side requests.
class EngineTraffic : public SessionTraffic {
 public:
  EngineTraffic(const Plan& plan, const SteadyClock& clock, const ServiceLauncher& launcher,
                const BundleLayout& bundle, RunObservations& obs, uint32_t shard_index,
                uint32_t shard_count, uint32_t threads, const ObserveSource& observe,
                std::vector<std::string> prometheus_services, std::FILE* err)
      : plan_(plan),
        clock_(clock),
        launcher_(launcher),
        recording_(plan, bundle, obs),
        shard_index_(shard_index),
        shard_count_(shard_count),
        observe_(observe),
        prometheus_services_(std::move(prometheus_services)),
        err_(err) {
    LoadEngineOptions lo;
    lo.threads = threads_ = threads;
    lo.max_in_flight = static_cast<uint32_t>(std::max(1, plan.max_in_flight));
    lo.request_timeout = plan.request_timeout;
    lo.stop_drain = std::min<Duration>(plan.request_timeout, std::chrono::seconds(5));
    engine_.emplace(lo);
  }

  ~EngineTraffic() override { stop_proxy_scrapes(); }

  void start() override {
    const std::string& base_url = launcher_.get(plan_.target).url;
    recording_.set_base_url(base_url);
    source_.emplace(plan_, base_url, shard_index_, shard_count_, threads_);
    const auto& ticks = recording_.ticks();
    // Shard 0 alone reads the server side (plan_for_shard).
    if (observe_.prometheus() && shard_index_ == 0) pull_.emplace(observe_, clock_.zero_unix_ms());
    for (size_t i = 0; i < ticks.size() && !pull_; ++i) {
      const bool boundary = at_phase_edge(plan_, ticks[i]);
      for (const auto& target : plan_.scrape_targets) {
        if (launcher_.find_proxy(target.service) != nullptr) continue;  // read in-process below
        // A service with instances is scraped instance by instance (job "api#1"), never
        // through its balancer, which would answer for a different instance each time.
        std::vector<const RunningService*> members = launcher_.members(target.service);
        if (members.empty()) members.push_back(&launcher_.get(target.service));  // throws
        for (const RunningService* member : members) {
          HttpRequest req;
          req.url = member->url + target.path;
          req.timeout = kScrapeTimeout;
          ++scrapes_outstanding_;
          // The loop thread only hands the body over; the recording thread parses and stores.
          engine_->submit_at(ticks[i], std::move(req),
                             [this, i, boundary, job = member->name](SideCompletion&& c) {
                               HttpResponse& r = c.response;
                               if (r.error.empty() && r.status == 200)
                                 recording_.on_scrape(job, i, std::move(r.body), "", boundary);
                               else
                                 recording_.on_scrape(job, i, std::nullopt, scrape_error(r), false);
                               --scrapes_outstanding_;
                             });
        }
      }
    }
    engine_->start(clock_.origin(), source_->partitions(), recording_);
    start_proxy_scrapes();
  }
  void stop(StopMode mode) override {
    engine_->request_stop(mode);
    stop_proxy_scrapes();
  }
  bool done() const override { return engine_->traffic_done(); }
  std::optional<std::string> failure() const override {
    if (engine_->failed()) return std::string("the load engine stopped on an error");
    return recording_.failure();
  }
  LoadCounters counters() const override { return engine_->counters(); }
  void await_scrapes(Duration timeout) override {
    const auto deadline = Clock::now() + timeout;
    while (scrapes_outstanding_ > 0 && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  void finish() override {
    stop_proxy_scrapes();
    std::exception_ptr error;
    try {
      engine_->finish();
    } catch (...) {
      error = std::current_exception();
    }
    if (pull_) pull_from_prometheus();
    recording_.finish();
    if (error) std::rethrow_exception(error);
  }

  // The arrivals handed out, once traffic started (null before).
  ArrivalSource* source() { return source_ ? &*source_ : nullptr; }

 private:
  static std::string scrape_error(const HttpResponse& r) {
    return observe::describe_scrape_failure(static_cast<int>(r.status), r.error_class, r.error,
                                            r.body, kScrapeTimeout);
  }

  // The services' series from Prometheus, for the ticks the run reached (all of them when it
  // ran to its end), once Prometheus has caught up. Runs in the cleanup after the undo and
  // before the services stop, so their last scrapes are real.
  void pull_from_prometheus() {
    const auto& ticks = recording_.ticks();
    const auto gave_up =
        pull_->read_run(plan_, prometheus_services_, ticks, clock_.now(),
                        [this, &ticks](const std::string& job, size_t i,
                                       std::optional<std::string> body, std::string error) {
                          const bool snapshot = body && at_phase_edge(plan_, ticks[i]);
                          recording_.on_scrape(job, i, std::move(body), std::move(error), snapshot);
                        });
    for (const auto& why : gave_up)
      std::fprintf(err_, "faultline run: observe through Prometheus: %s\n", why.c_str());
  }

  // The environment's proxies run inside faultline, so their metrics are read in-process at
  // the same ticks as the HTTP scrapes, on a thread of their own (on_scrape takes any thread).
  void start_proxy_scrapes() {
    std::vector<std::pair<std::string, const TcpProxy*>> proxies;
    for (const auto& target : plan_.scrape_targets)
      if (const TcpProxy* p = launcher_.find_proxy(target.service))
        proxies.emplace_back(target.service, p);
    if (proxies.empty()) return;
    proxy_scraper_ = std::thread([this, proxies] {
      const auto& ticks = recording_.ticks();
      for (size_t i = 0; i < ticks.size(); ++i) {
        const auto due = clock_.origin() + ticks[i];
        {
          std::unique_lock lock(proxy_mutex_);
          proxy_wake_.wait_until(lock, due, [this] { return proxy_stop_; });
        }
        // Stopping still takes a tick that is due (the last one, at the plan's end).
        if (Clock::now() < due) return;
        const bool boundary = at_phase_edge(plan_, ticks[i]);
        for (const auto& [job, proxy] : proxies)
          recording_.on_scrape(job, i, proxy->metrics_text(), "", boundary);
      }
    });
  }
  void stop_proxy_scrapes() {
    {
      std::lock_guard lock(proxy_mutex_);
      proxy_stop_ = true;
    }
    proxy_wake_.notify_all();
    if (proxy_scraper_.joinable()) proxy_scraper_.join();
  }

  const Plan& plan_;
  const SteadyClock& clock_;
  const ServiceLauncher& launcher_;
  RunRecording recording_;
  std::thread proxy_scraper_;
  std::mutex proxy_mutex_;
  std::condition_variable proxy_wake_;
  bool proxy_stop_ = false;
  std::optional<LoadEngine> engine_;
  std::optional<ArrivalSource> source_;
  uint32_t threads_ = 1;
  std::atomic<int64_t> scrapes_outstanding_{0};
  uint32_t shard_index_;
  uint32_t shard_count_;
  const ObserveSource& observe_;
  std::vector<std::string> prometheus_services_;  // prometheus_services(plan, env)
  std::FILE* err_;
  std::optional<PrometheusPull> pull_;  // set at start() when the server side is Prometheus's
};

// The plan's hooks, run against the launcher's services; keeps every record for the report.
class PlanHooks : public SessionHooks {
 public:
  PlanHooks(const Plan& plan, const ServiceLauncher& launcher, const BundleLayout& bundle,
            std::function<bool()> interrupted, std::FILE* out, bool quiet)
      : plan_(plan), out_(out), quiet_(quiet) {
    options_.bundle = bundle;
    options_.interrupted = std::move(interrupted);
    options_.lookup = [&launcher](const std::string& name) {
      const RunningService& s = launcher.get(name);
      return HookServiceAddress{s.url, s.host, s.port};
    };
  }
  void setup() override {
    for (const auto& h : plan_.hooks.setup) {
      const HookRecord& r = run(h, "setup");
      if (!r.ok)
        throw EnvironmentError("setup hook '" + h.name + "' failed: " + r.error +
                               " (nothing was sent; output in " + r.output_file + ")");
    }
  }
  std::optional<std::string> verify() override {
    verified_ = true;
    std::optional<std::string> failure;
    for (const auto& h : plan_.hooks.verify) {
      const HookRecord& r = run(h, "verify");
      if (!r.ok && !failure)
        failure = "verify hook '" + h.name + "' failed: " + r.error + " (output in " +
                  r.output_file + ")";
    }
    return failure;
  }
  const std::vector<HookRecord>& records() const { return records_; }
  bool verified() const { return verified_; }
  std::vector<HookRecord> verify_records() const {
    std::vector<HookRecord> out;
    for (const auto& r : records_)
      if (r.stage == "verify") out.push_back(r);
    return out;
  }

 private:
  const HookRecord& run(const HookSpec& h, const char* stage) {
    if (!quiet_) std::fprintf(out_, "%s hook %s\n", stage, h.name.c_str());
    records_.push_back(run_hook(h, stage, options_));
    return records_.back();
  }

  const Plan& plan_;
  std::FILE* out_;
  bool quiet_;
  HookRunOptions options_;
  std::vector<HookRecord> records_;
  bool verified_ = false;
};

// The session's budgets, stretched to what the plan's faults may take: an exec hook's undo may
// first wait for its run (each up to the hook's timeout), and a process fault's undo starts a
// service again and waits for it to be ready (up to its readiness timeout, after a grace).
SessionOptions session_options_for(const Plan& plan, const Environment& env) {
  SessionOptions o;
  Duration longest_undo{0}, longest_apply{0};
  for (const auto& step : plan.fault_steps) {
    if (step.is_reset()) continue;
    rapidjson::Document state;
    if (!parse_json(step.state_json, &state) || !state.IsObject()) continue;
    if (step.kind == "exec" && state.HasMember("timeout_us") && state["timeout_us"].IsInt64()) {
      const Duration t{state["timeout_us"].GetInt64()};
      longest_apply = std::max(longest_apply, t);
      longest_undo = std::max(longest_undo, 2 * t);
    } else if (step.kind == "process") {
      const ServiceSpec* svc = env.find(fault_step_service(step));
      const Duration ready = svc ? svc->ready_timeout : Duration{std::chrono::seconds(15)};
      const Duration grace = state.HasMember("grace_us") && state["grace_us"].IsInt64()
                                 ? Duration{state["grace_us"].GetInt64()}
                                 : Duration{0};
      longest_apply = std::max(longest_apply, grace + ready);
      longest_undo = std::max(longest_undo, grace + ready);
    }
  }
  const Duration margin = std::chrono::seconds(2);
  if (longest_apply.count() > 0)
    o.initial_apply_timeout = std::max(o.initial_apply_timeout, longest_apply + margin);
  if (longest_undo.count() > 0) o.undo_budget = std::max(o.undo_budget, longest_undo + margin);
  return o;
}

// What shard `index` of a sharded run executes: shards other than 0 apply no faults, take no
// scrapes, run no hooks and check no abort_if (they cannot see the server side); shard 0
// does all of that once for the whole load. The hash stays the plan's: the bundle keeps the
// original plan, and merge judges the union against it.
Plan plan_for_shard(const Plan& plan, uint32_t index) {
  Plan p = plan;
  if (index == 0) return p;
  p.fault_steps.clear();
  p.scrape_targets.clear();
  p.hooks = ScenarioHooks{};
  p.abort_if.clear();
  return p;
}

bool reads_server(const dsl::ValueExpr& v) {
  if (v.kind == dsl::ValueExpr::Kind::kMetric)
    return v.metric.side == dsl::MetricRef::Side::kServer;
  return std::any_of(v.operands.begin(), v.operands.end(), reads_server);
}
bool reads_server(const dsl::Condition& c) {
  return std::any_of(c.values.begin(), c.values.end(),
                     [](const dsl::ValueExpr& v) { return reads_server(v); }) ||
         std::any_of(c.operands.begin(), c.operands.end(),
                     [](const dsl::Condition& o) { return reads_server(o); });
}

// Why a plan cannot be observed through Prometheus at all, or nullopt: an abort_if that reads
// server metrics (Prometheus is read after the traffic, so it would never see them).
std::optional<std::string> prometheus_plan_problem(const Plan& plan) {
  for (const auto& a : plan.abort_if)
    if (a.parsed && a.parsed->condition && reads_server(*a.parsed->condition))
      return "abort_if \"" + a.text + "\" reads server metrics, which faultline reads from " +
             "Prometheus only after the traffic; use client metrics in abort_if, or observe by " +
             "scraping";
  return std::nullopt;
}

// The observed services whose series come from Prometheus: every scrape target but the
// environment's proxies, which run inside faultline and are read in-process.
std::vector<std::string> prometheus_services(const Plan& plan, const Environment& env) {
  std::vector<std::string> services;
  for (const auto& t : plan.scrape_targets)
    if (const ServiceSpec* s = env.find(t.service); s == nullptr || s->proxy_of.empty())
      services.push_back(t.service);
  return services;
}

// Why the Prometheus at observe.url cannot observe this run, or nullopt: it does not answer,
// does not scrape an observed service under the selector, or has no rule for an asserted
// alert. `patience`: how long to keep asking (a Prometheus the environment just started has
// not scraped yet).
std::optional<std::string> prometheus_preflight(const Plan& plan, const Environment& env,
                                                const ObserveSource& observe, Duration patience) {
  const std::vector<std::string> services = prometheus_services(plan, env);
  const std::vector<std::string> alerts = alerts_asserted(plan);
  if (services.empty() && alerts.empty()) return std::nullopt;
  return PrometheusPull(observe, 0).preflight(services, alerts, patience);
}

}  // namespace

RunOutcome run_scenario(const RunOptions& options, std::FILE* out, std::FILE* err) {
  // ---- load, validate, compile (pure; exit 2 on any problem) ----
  const ScenarioLoad load = load_scenario(options.spec_path, options.load);
  for (const auto& d : load.diagnostics)
    std::fprintf(err, "%s\n", format_diagnostic(d, false).c_str());
  if (!load.ok()) return {static_cast<int>(ExitCode::kInvalid), "", "", false, nullptr};
  const Plan plan = compile_plan(*load.scenario, options.overrides);
  return execute_plan(plan, *load.environment, load.scenario->source_path, options, {}, out, err);
}

RunOutcome execute_plan(const Plan& plan, const Environment& env, const std::string& spec_path,
                        const RunOptions& options, const ReplaySource& replay, std::FILE* out,
                        std::FILE* err) {
  const bool sharded = options.shard_count > 1;
  if (options.shard_index >= options.shard_count) throw UsageError("--shard i/N wants 0 <= i < N");
  if (sharded) {
    // Shards are loads against one existing system: a service faultline started would be a
    // private copy per shard process, which is not the system the other shards load.
    for (const auto& s : env.services)
      if (s.url.empty()) {
        std::fprintf(err,
                     "faultline run: --shard needs an environment whose services are given by "
                     "url (service '%s' of %s is started by faultline, so each shard would get "
                     "its own copy)\n",
                     s.name.c_str(), env.source_path.c_str());
        return {static_cast<int>(ExitCode::kInvalid), "", "", false, nullptr};
      }
  }
  if (const auto alerts = alerts_asserted(plan); !alerts.empty() && !env.observe.prometheus()) {
    std::fprintf(err,
                 "faultline run: %s asserts alert(%s), which is read from Prometheus, but %s "
                 "scrapes the services itself; use an environment with observe: {source: "
                 "prometheus, url: ...} (docs/running.md, \"Observing through Prometheus\")\n",
                 plan.scenario_name.c_str(), alerts.front().c_str(), env.source_path.c_str());
    return {static_cast<int>(ExitCode::kInvalid), "", "", false, nullptr};
  }
  // Where the server side comes from; a Prometheus the environment starts gets its URL once
  // it runs (LauncherServices' after_start, below).
  ObserveSource observe = env.observe;
  if (observe.prometheus() && options.shard_index == 0) {
    std::optional<std::string> problem = prometheus_plan_problem(plan);
    const bool invalid = problem.has_value();
    if (!problem && observe.service.empty())
      problem = prometheus_preflight(plan, env, observe, Duration{0});
    if (problem) {
      std::fprintf(err, "faultline run: observe through Prometheus: %s\n", problem->c_str());
      return {static_cast<int>(invalid ? ExitCode::kInvalid : ExitCode::kEnvironment), "", "",
              false, nullptr};
    }
  }
  const RunFiles files =
      create_run_files(options.artifacts_dir, plan.scenario_name, std::chrono::system_clock::now());
  write_bundle_plan(files.bundle, plan);
  if (sharded)
    write_shard_info(files.bundle, {options.shard_index, options.shard_count, plan.plan_hash});
  const Plan shard_plan = plan_for_shard(plan, options.shard_index);

  RunReport report = start_report(plan, spec_path, options, files.stem);
  report.replay_of = replay.artifact;
  report.replay_source_schedule_sha256 = replay.schedule_sha256;
  report.started_at = utc_stamp(std::chrono::system_clock::now(), false);
  report.environment_path = env.source_path;
  report.faultline_version = version();

  StopSignals signals;
  ProgressPrinter progress(options.progress, out);
  if (!progress.quiet())
    std::fprintf(out, "faultline: %s, seed %llu, plan %s, %s of traffic\nstarting services of %s\n",
                 plan.scenario_name.c_str(), static_cast<unsigned long long>(plan.seed),
                 plan.plan_hash.substr(0, 12).c_str(), format_duration(plan.total).c_str(),
                 env.source_path.c_str());

  ServiceLauncher launcher(env, files.bundle.logs_dir());
  launcher.set_proxy_seed(plan.seed);
  LauncherServices services(launcher, observe.service, [&] {
    if (observe.service.empty() || options.shard_index != 0) return;
    observe.url = launcher.get(observe.service).url;
    const Duration patience = std::min<Duration>(observe.wait, std::chrono::seconds(20));
    if (auto problem = prometheus_preflight(plan, env, observe, patience))
      throw EnvironmentError("observe through Prometheus (service " + observe.service +
                             "): " + *problem);
  });
  SteadyClock clock;
  RunObservations obs(shard_plan, judging_windows(shard_plan), plan.metrics_of_interest);
  KnobDriverOptions knob_options;
  knob_options.lease = options.lease;
  KnobDriver knobs(
      [&](const std::string& service) {
        const ServiceSpec* spec = env.find(service);
        return FaultEndpoint{service, launcher.get(service).url, spec ? spec->fault_token : ""};
      },
      knob_options);
  // The runtime levers (/__levers): the same driver and lease, another protocol.
  KnobDriverOptions lever_options = knob_options;
  lever_options.protocol = KnobProtocol::levers();
  KnobDriver levers(
      [&](const std::string& service) {
        const ServiceSpec* spec = env.find(service);
        return FaultEndpoint{service, launcher.get(service).url, spec ? spec->fault_token : ""};
      },
      lever_options);
  // After the launcher, so it is destroyed first (it waits for actions that use the launcher).
  ProcessDriver processes(launcher);
  ProxyDriver proxies([&](const std::string& name) { return launcher.find_proxy(name); });
  ExecDriverOptions exec_options;
  exec_options.log_dir = files.bundle.logs_dir();
  ExecDriver execs(exec_options);
  const uint32_t threads = load_threads(shard_plan, options);
  report.load_threads = threads;
  EngineTraffic traffic(shard_plan, clock, launcher, files.bundle, obs, options.shard_index,
                        options.shard_count, threads, observe, prometheus_services(shard_plan, env),
                        err);
  report.observe_source = observe.source;
  if (observe.prometheus()) report.observe_match = observe.match;

  Duration last_progress{0};
  uint64_t last_arrivals = 0;
  RunSession session(
      shard_plan, session_options_for(shard_plan, env), clock, services,
      {&knobs, &levers, &processes, &proxies, &execs}, traffic, obs,
      [&] { return signals.received(); },
      [&](const SessionProgress& p) {
        ProgressSnapshot snap;
        snap.phase = p.phase ? p.phase->name : "end";
        snap.elapsed = p.elapsed;
        snap.total = plan.total;
        if (p.phase) {
          const double f = std::chrono::duration<double>(p.elapsed - p.phase->start) /
                           std::chrono::duration<double>(p.phase->length());
          snap.planned_rate = p.phase->rate_from + (p.phase->rate_to - p.phase->rate_from) * f;
          std::tie(snap.p95_s, snap.error_rate) = obs.live_phase(p.phase->name);
        }
        const double dt = std::chrono::duration<double>(p.elapsed - last_progress).count();
        snap.achieved_rate =
            dt > 0 ? static_cast<double>(p.counters.arrivals - last_arrivals) / dt : 0;
        last_arrivals = p.counters.arrivals;
        last_progress = p.elapsed;
        snap.in_flight = p.counters.in_flight;
        snap.dropped = p.counters.dropped;
        snap.sent = p.counters.sent;
        progress.update(snap);
      });
  PlanHooks hooks(
      shard_plan, launcher, files.bundle, [&] { return signals.received() != 0; }, out,
      progress.quiet());
  if (!shard_plan.hooks.empty()) session.set_hooks(&hooks);
  session.on_cleanup([&](const std::string& reason, Duration budget) {
    if (reason == "undo at end") return;
    progress.finish();
    std::fprintf(err, "faultline run: %s: undoing faults (up to %s), then stopping services\n",
                 reason.c_str(), format_duration(budget).c_str());
  });
  const SessionOutcome outcome = session.run();
  progress.finish();
  if (outcome.traffic_started) report.plan_zero_unix_ms = clock.zero_unix_ms();
  report.observe_url = observe.url;

  report.status = outcome.status;
  report.status_detail = outcome.detail;
  report.abort_condition = outcome.abort_condition;
  report.aborted_at = outcome.aborted_at;
  report.faults_undone = outcome.faults_undone;
  report.actual_duration = outcome.elapsed;
  record_services(report, launcher, files.bundle.dir);
  // Every driver's events, in plan-time order (a stable sort keeps each driver's own order).
  std::vector<FaultEvent> events;
  for (const FaultDriver* d :
       std::initializer_list<const FaultDriver*>{&knobs, &levers, &processes, &proxies, &execs})
    for (auto& e : d->events()) events.push_back(std::move(e));
  std::stable_sort(events.begin(), events.end(),
                   [](const FaultEvent& a, const FaultEvent& b) { return a.at < b.at; });
  record_fault_events(report, events);
  if (outcome.environment_failed) std::fprintf(err, "faultline run: %s\n", outcome.detail.c_str());
  report.ended_at = utc_stamp(std::chrono::system_clock::now(), false);
  if (ArrivalSource* source = traffic.source()) {
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
  report.hooks = hooks.records();
  if (hooks.verified() || shard_plan.hooks.verify.empty())
    obs.set_verify_outcomes(hooks.verify_records());
  {
    const judge::RunFacts facts = obs.run_facts();
    report.history = facts.history;
    report.no_history = facts.no_history;
  }
  const RunStatus ended = report.status;
  report.status = RunStatus::kPassed;
  // A shard saw 1/N of the requests (and shards != 0 no server side): its verdicts would
  // mean nothing, so it records and leaves judging to faultline merge.
  summarize_run(report, plan, obs, obs.client_stats(), outcome.traffic_started && !sharded);
  summarize_scrape_failures(report, plan, obs.scrapes_unlocked());  // recording has finished
  if (ended != RunStatus::kPassed) report.status = ended;
  report.exit_code = exit_code_of(report.status);
  report.bundle_files = list_bundle_files(files.bundle);
  write_file_atomically(files.artifact, report_to_json(report));
  print_summary(out, report, files.artifact);
  if (sharded)
    std::fprintf(out,
                 "shard %u/%u: not judged; judge the whole load with faultline merge over all "
                 "%u shards' artifacts\n",
                 options.shard_index, options.shard_count, options.shard_count);
  return {report.exit_code, files.artifact, report.schedule_sha256, report.replay_schedule_matched,
          std::make_shared<const RunReport>(report)};
}

}  // namespace faultline
