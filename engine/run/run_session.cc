#include "run/run_session.h"

#include <csignal>

#include "common/error.h"
#include "judge/evaluator.h"
#include "spec/service_placeholders.h"

namespace faultline {

namespace {

std::set<std::string> services_needed(const Plan& plan) {
  std::set<std::string> needed{plan.target};
  for (const auto& t : plan.scrape_targets) needed.insert(t.service);
  for (const auto& f : plan.fault_steps)
    if (std::string s = fault_step_service(f); !s.empty()) needed.insert(s);
  // Hooks: the service an http hook probes and every {svc.*} they name.
  for (const auto* list : {&plan.hooks.setup, &plan.hooks.verify}) {
    for (const auto& h : *list) {
      if (!h.http_service.empty()) needed.insert(h.http_service);
      std::vector<std::string> texts = h.exec;
      texts.push_back(h.http_path);
      for (const auto& t : texts)
        for (const auto& p : find_service_placeholders(t))
          if (!p.service.empty()) needed.insert(p.service);
    }
  }
  return needed;
}

std::string signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal " + std::to_string(sig);
}

}  // namespace

RunSession::RunSession(const Plan& plan, SessionOptions options, SessionClock& clock,
                       SessionServices& services, std::vector<FaultDriver*> drivers,
                       SessionTraffic& traffic, const judge::MetricSource& observations,
                       std::function<int()> stop_signal,
                       std::function<void(const SessionProgress&)> progress)
    : plan_(plan),
      options_(options),
      clock_(clock),
      services_(services),
      drivers_(std::move(drivers)),
      traffic_(traffic),
      observations_(observations),
      stop_signal_(std::move(stop_signal)),
      progress_(std::move(progress)) {}

SessionOutcome RunSession::run() {
  try {
    services_.start(services_needed(plan_), [&] { return stop_signal_() != 0; });
    for (FaultDriver* d : drivers_) d->preflight(plan_);
    if (stop_signal_()) throw Error(ExitCode::kInterrupted, "interrupted before traffic");
    if (hooks_) hooks_->setup();
    if (stop_signal_()) throw Error(ExitCode::kInterrupted, "interrupted before traffic");
    clock_.start(options_.start_lead);
    if (apply_initial_faults()) {
      traffic_.start();
      out_.traffic_started = true;
      if (loop()) traffic_.await_scrapes(options_.final_scrape_wait);
    }
  } catch (const EnvironmentError& e) {
    fail_environment(e.what());
  } catch (const Error& e) {
    if (e.code() != ExitCode::kInterrupted) {
      cleanup();
      throw;
    }
    out_.status = RunStatus::kInterrupted;
    out_.detail = e.what();
  }
  cleanup();
  return out_;
}

// The faults due at plan time 0 are confirmed before the first request goes out.
bool RunSession::apply_initial_faults() {
  while (next_step_ < plan_.fault_steps.size() && plan_.fault_steps[next_step_].at == Duration{0}) {
    const FaultStep& step = plan_.fault_steps[next_step_++];
    driver_for(step).apply(step, Duration{0});
  }
  const Duration deadline = clock_.now() + options_.initial_apply_timeout;
  while (true) {
    for (FaultDriver* d : drivers_) d->tick(Duration{0});
    if (auto failure = fault_failure()) {
      fail_environment(*failure);
      return false;
    }
    bool settled = true;
    for (FaultDriver* d : drivers_) settled &= d->settled();
    if (settled) return true;
    if (int sig = stop_signal_()) {
      out_.status = RunStatus::kInterrupted;
      out_.detail = "interrupted by " + signal_name(sig) + " while applying the first faults";
      return false;
    }
    if (clock_.now() >= deadline) {
      fail_environment("the faults due at the start were not confirmed within " +
                       format_duration(options_.initial_apply_timeout));
      return false;
    }
    clock_.sleep(options_.tick);
  }
}

// Returns true when the plan ran to its end.
bool RunSession::loop() {
  const judge::JudgeOptions judge_options = judge::judge_options(plan_);
  Duration next_check = std::chrono::seconds(1);
  while (true) {
    const Duration now = clock_.now();
    out_.elapsed = std::max(now, Duration{0});
    if (int sig = stop_signal_()) {
      out_.status = RunStatus::kInterrupted;
      out_.detail = "interrupted by " + signal_name(sig) + " at " + format_duration(out_.elapsed);
      traffic_.stop(StopMode::kAbort);
      return false;
    }
    if (auto gone = services_.exited()) {
      fail_environment(*gone + " at " + format_duration(out_.elapsed));
      traffic_.stop(StopMode::kAbort);
      return false;
    }
    if (auto failure = traffic_.failure()) {
      fail_environment(*failure);
      return false;
    }
    while (next_step_ < plan_.fault_steps.size() && plan_.fault_steps[next_step_].at <= now) {
      const FaultStep& step = plan_.fault_steps[next_step_++];
      driver_for(step).apply(step, now);
    }
    for (FaultDriver* d : drivers_) d->tick(now);
    if (auto failure = fault_failure()) {
      fail_environment(*failure);
      traffic_.stop(StopMode::kAbort);
      return false;
    }
    if (now >= next_check) {
      next_check += std::chrono::seconds(1);
      for (const auto& a : plan_.abort_if) {
        auto v =
            judge::evaluate_abort_if(*a.parsed, plan_.phases, now, observations_, judge_options);
        if (v && v->status == judge::VerdictStatus::kPass) {
          out_.status = RunStatus::kAborted;
          out_.abort_condition = a.text;
          out_.aborted_at = now;
          out_.detail = "abort_if fired at " + format_duration(now) + ": " + v->message;
          traffic_.stop(StopMode::kDrain);
          return false;
        }
      }
      if (progress_) progress_({now, plan_.phase_at(now), traffic_.counters()});
    }
    if (now >= plan_.total && traffic_.done() && next_step_ >= plan_.fault_steps.size())
      return true;
    clock_.sleep(options_.tick);
  }
}

void RunSession::fail_environment(const std::string& why) {
  if (out_.environment_failed) return;  // the first cause is the one to report
  out_.environment_failed = true;
  out_.status = RunStatus::kEnvironmentError;
  out_.detail = why;
}

// Faults first (the services must be up to take the undo), then traffic, then services.
void RunSession::cleanup() {
  const std::string reason = out_.status == RunStatus::kInterrupted ? "undo after interrupt"
                             : out_.status == RunStatus::kAborted   ? "undo after abort"
                             : out_.environment_failed              ? "undo after error"
                                                                    : "undo at end";
  out_.undo_reasons.push_back(reason);
  if (on_cleanup_) on_cleanup_(reason, options_.undo_budget);
  const Duration now = std::max(clock_.now(), Duration{0});
  for (FaultDriver* d : drivers_) {
    bool undone = false;
    try {
      undone = d->undo_all(now, reason, options_.undo_budget);
    } catch (const std::exception& e) {
      out_.not_undone.push_back({std::string(d->kind()), "(every target)", "", e.what()});
    }
    out_.faults_undone &= undone;
    for (auto& gap : d->state().not_undone) out_.not_undone.push_back(std::move(gap));
  }
  try {
    traffic_.finish();
  } catch (const std::exception& e) {
    fail_environment(std::string("traffic: ") + e.what());
  }
  const bool verifiable = out_.status == RunStatus::kPassed || out_.status == RunStatus::kAborted;
  if (hooks_ && out_.traffic_started && verifiable && out_.faults_undone) {
    try {
      if (auto failure = hooks_->verify()) fail_environment(*failure);
    } catch (const std::exception& e) {
      fail_environment(std::string("verify hooks: ") + e.what());
    }
  }
  services_.stop_all();
  if (!out_.faults_undone) {
    std::string what;
    for (const auto& g : out_.not_undone)
      what += (what.empty() ? "" : "; ") + g.kind + " " + g.target + " may still hold " +
              g.state_json + (g.error.empty() ? "" : " (" + g.error + ")");
    const std::string why = "the undo of faults could not be confirmed: " +
                            (what.empty() ? std::string("a driver failed") : what);
    // A run that cannot confirm its undo never passes, whatever else happened.
    if (out_.status == RunStatus::kInterrupted || out_.environment_failed)
      out_.detail += (out_.detail.empty() ? "" : "; ") + why;
    else
      out_.detail = why;
    out_.environment_failed = true;
    out_.status = RunStatus::kEnvironmentError;
  }
}

FaultDriver& RunSession::driver_for(const FaultStep& step) {
  for (FaultDriver* d : drivers_)
    if (d->handles(step)) return *d;
  throw EnvironmentError("no fault driver handles the " + step.kind + " step for '" + step.target +
                         "' at " + format_duration(step.at));
}

std::optional<std::string> RunSession::fault_failure() const {
  for (FaultDriver* d : drivers_) {
    const FaultState st = d->state();
    if (!st.apply_failures.empty()) return st.apply_failures.front();
  }
  return std::nullopt;
}

}  // namespace faultline
