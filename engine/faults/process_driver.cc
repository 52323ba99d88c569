#include "faults/process_driver.h"

#include <rapidjson/document.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>

#include "common/error.h"
#include "common/json_parse.h"

namespace faultline {

namespace {

using Status = ProcessControl::Status;
using Clock = std::chrono::steady_clock;

const char* status_words(Status s) {
  switch (s) {
    case Status::kRunning:
      return "running";
    case Status::kPaused:
      return "paused";
    case Status::kPartlyPaused:
      return "partly paused";
    case Status::kDown:
      return "down";
  }
  return "?";
}

int64_t int_member(const rapidjson::Value& v, const char* name, int64_t fallback) {
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsInt64()) return fallback;
  return it->value.GetInt64();
}

}  // namespace

ProcessDriver::ProcessDriver(ProcessControl& control, ProcessDriverOptions options)
    : control_(control), options_(options) {}

ProcessDriver::~ProcessDriver() {
  for (auto& [name, in] : instances_)
    if (in.action.valid()) in.action.wait();
}

ProcessDriver::Instance& ProcessDriver::instance(const std::string& name) {
  Instance& in = instances_[name];
  in.name = name;
  return in;
}

void ProcessDriver::preflight(const Plan& plan) {
  for (const auto& step : plan.fault_steps) {
    if (!handles(step) || step.is_reset()) continue;
    std::string why;
    const std::vector<std::string> names = control_.instances(step.target, &why);
    if (names.empty())
      throw EnvironmentError("preflight: process fault on '" + step.target + "': " + why);
    for (const auto& name : names) {
      if (instances_.count(name)) continue;
      const Status s = control_.instance_status(name);
      if (s != Status::kRunning)
        throw EnvironmentError("preflight: process fault on '" + step.target + "': instance " +
                               name + " is " + status_words(s) + ", not running");
      instance(name).status = s;
    }
  }
}

void ProcessDriver::set_want(Instance& in, const Want& want, const std::string& json,
                             const std::string& phase) {
  in.want = want;
  in.want_json = json;
  in.phase = phase;
  in.stops = 0;
  in.starts = 0;
  in.restarted = false;
  in.failed = false;
  ++in.episode;
  if (!want.action.empty()) {
    in.touched = true;
    in.held_json = json;
  }
}

void ProcessDriver::apply(const FaultStep& step, Duration now) {
  Want want;
  if (!step.is_reset()) {
    rapidjson::Document doc;
    std::string action;
    if (parse_json(step.state_json, &doc) && doc.IsObject()) {
      auto it = doc.FindMember("action");
      if (it != doc.MemberEnd() && it->value.IsString()) action = it->value.GetString();
    }
    if (action != "kill" && action != "terminate" && action != "pause" && action != "restart") {
      apply_failures_.push_back("process fault on '" + step.target + "': cannot read state " +
                                step.state_json);
      return;
    }
    want.action = action;
    want.grace = Duration(int_member(doc, "grace_us", 0));
    if (doc.HasMember("restart_after_us") && (action == "kill" || action == "terminate")) {
      want.restart = true;
      want.restart_after = Duration(int_member(doc, "restart_after_us", 0));
      want.rounds = static_cast<int>(std::max<int64_t>(1, int_member(doc, "restarts", 1)));
    }
  }
  std::string why;
  const std::vector<std::string> names = control_.instances(step.target, &why);
  if (names.empty()) {
    // A lifted fault whose target never resolved has nothing to undo; its apply was reported.
    if (!step.is_reset())
      apply_failures_.push_back("process fault " + step.state_json + " on '" + step.target +
                                "': " + why);
    return;
  }
  for (const auto& name : names) {
    Instance& in = instance(name);
    set_want(in, want, step.state_json, step.phase);
    in.retry_at = now;  // a new step is tried at once, even after failures
    if (collect(in, now, false)) advance(in, now);
  }
}

void ProcessDriver::launch(Instance& in, const std::string& what, Duration now) {
  ProcessControl* control = &control_;
  const std::string name = in.name;
  const std::string phase = in.phase;
  const Want want = in.want;
  const Duration confirm_timeout = options_.confirm_timeout;
  Outcome base;
  base.episode = in.episode;
  base.fault_json = want.action.empty() ? "" : in.want_json;
  in.action = std::async(std::launch::async, [=]() mutable {
    Outcome out = base;
    const auto started = Clock::now();
    auto plan_now = [&] {
      return now + std::chrono::duration_cast<Duration>(Clock::now() - started);
    };
    auto record = [&](const char* action, const std::string& error, Clock::time_point t0) {
      FaultEvent ev;
      ev.at = now + std::chrono::duration_cast<Duration>(t0 - started);
      ev.phase = phase;
      ev.kind = "process";
      ev.target = name;
      ev.action = action;
      ev.state_json = out.fault_json.empty() ? "{}" : out.fault_json;
      ev.ok = error.empty();
      ev.error = error;
      ev.call_latency = std::chrono::duration_cast<Duration>(Clock::now() - t0);
      out.events.push_back(ev);
      return error.empty();
    };
    auto do_stop = [&](const char* action, bool kill_at_once) {
      const auto t0 = Clock::now();
      const bool ok = record(action, control->stop_instance(name, kill_at_once, want.grace), t0);
      if (ok) {
        out.went_down = true;
        out.down_at = plan_now();
      }
      return ok;
    };
    auto do_start = [&] {
      const auto t0 = Clock::now();
      const bool ok = record("start", control->start_instance(name), t0);
      if (ok) out.events.back().ready_after = out.events.back().call_latency;
      return ok;
    };
    // A signal is confirmed when status() shows its effect (delivery is asynchronous).
    auto do_signal = [&](const char* action, int sig, Status expect) {
      const auto t0 = Clock::now();
      std::string error = control->signal_instance(name, sig);
      if (error.empty()) {
        const auto deadline = Clock::now() + confirm_timeout;
        Status s;
        while ((s = control->instance_status(name)) != expect && Clock::now() < deadline)
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        if (s != expect)
          error = std::string("sent ") + (sig == SIGSTOP ? "SIGSTOP" : "SIGCONT") +
                  " but the instance is " + status_words(s) + " after " +
                  format_duration(confirm_timeout);
      }
      return record(action, error, t0);
    };
    bool ok = false;
    if (what == "kill") {
      ok = do_stop("kill", true);
    } else if (what == "terminate") {
      ok = do_stop("terminate", false);
    } else if (what == "restart") {
      ok = do_stop("stop", false) && do_start();
    } else if (what == "start") {
      ok = do_start();
    } else if (what == "pause") {
      ok = do_signal("pause", SIGSTOP, Status::kPaused);
    } else if (what == "resume") {
      ok = do_signal("resume", SIGCONT, Status::kRunning);
    }
    out.ok = ok;
    if (!ok && !out.events.empty()) out.error = out.events.back().error;
    out.status = control->instance_status(name);
    return out;
  });
}

bool ProcessDriver::advance(Instance& in, Duration now) {
  if (in.action.valid()) return false;
  const bool fault = !in.want.action.empty();
  if (fault && in.failed) return false;  // the run ends on apply failures; no retry
  if (!fault && now < in.retry_at) return false;
  const Status st = in.status;
  const bool paused = st == Status::kPaused || st == Status::kPartlyPaused;
  const std::string& action = in.want.action;
  if (!fault || action == "pause") {
    if (st == Status::kDown) {
      launch(in, "start", now);
    } else if (!fault && paused) {
      launch(in, "resume", now);
    } else if (fault && st != Status::kPaused) {
      launch(in, "pause", now);
    } else {
      return false;
    }
    return true;
  }
  if (action == "restart") {
    if (in.restarted) return false;
    in.restarted = true;
    launch(in, st == Status::kDown ? "start" : "restart", now);
    return true;
  }
  // kill / terminate, possibly a crash loop.
  if (st == Status::kDown && in.stops == 0) {
    in.stops = 1;  // already down when the step came (an earlier kill): that is the first round
    in.down_at = now;
  }
  if (st != Status::kDown && in.stops < in.want.rounds && in.starts == in.stops) {
    ++in.stops;
    launch(in, action, now);
    return true;
  }
  if (st == Status::kDown && in.want.restart && in.starts < in.stops &&
      now >= in.down_at + in.want.restart_after) {
    ++in.starts;
    launch(in, "start", now);
    return true;
  }
  return false;
}

bool ProcessDriver::collect(Instance& in, Duration now, bool wait) {
  if (!in.action.valid()) return true;
  if (!wait && in.action.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    return false;
  Outcome out = in.action.get();
  for (auto& ev : out.events) events_.push_back(std::move(ev));
  in.status = out.status;
  const bool current = out.episode == in.episode;
  if (out.ok) {
    in.last_error.clear();
    // It went down no later than now, when the outcome is seen (the action's clock and the
    // session's may disagree by a little).
    if (current && out.went_down) in.down_at = std::min(out.down_at, now);
    return true;
  }
  in.last_error = out.error;
  if (!out.fault_json.empty()) {
    // A fault the plan wanted could not be carried out: the incident is not reproduced.
    apply_failures_.push_back("process fault " + out.fault_json + " on " + in.name + ": " +
                              out.error);
    if (current) in.failed = true;
  }
  in.retry_at = now + options_.retry_interval;
  return true;
}

void ProcessDriver::tick(Duration now) {
  for (auto& [name, in] : instances_)
    if (collect(in, now, false)) advance(in, now);
}

bool ProcessDriver::satisfied(const Instance& in) const {
  if (in.action.valid() || in.failed) return false;
  const std::string& action = in.want.action;
  if (action.empty()) return in.status == Status::kRunning;
  if (action == "pause") return in.status == Status::kPaused;
  if (action == "restart") return in.restarted && in.status == Status::kRunning;
  if (!in.want.restart) return in.stops >= 1 && in.status == Status::kDown;
  return in.stops == in.want.rounds && in.starts == in.stops && in.status == Status::kRunning;
}

bool ProcessDriver::settled() const {
  for (const auto& [name, in] : instances_)
    if (!satisfied(in)) return false;
  return true;
}

bool ProcessDriver::undo_all(Duration now, const std::string& reason, Duration budget) {
  const auto started = Clock::now();
  const auto deadline = started + budget;
  auto plan_now = [&] {
    return now + std::chrono::duration_cast<Duration>(Clock::now() - started);
  };
  for (auto& [name, in] : instances_) {
    if (!in.touched) continue;
    set_want(in, Want{}, "{}", reason);
    in.retry_at = Duration::min();
    in.last_error.clear();
  }
  while (true) {
    bool pending = false;
    for (auto& [name, in] : instances_) {
      if (!in.touched) continue;
      if (!collect(in, plan_now(), false)) {
        pending = true;
        continue;
      }
      if (satisfied(in)) continue;
      pending = true;
      if (Clock::now() < deadline) advance(in, plan_now());
    }
    if (!pending || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Actions still under way at the deadline are awaited (each is bounded by its own timeouts)
  // so their outcome is recorded, but nothing new is begun.
  for (auto& [name, in] : instances_) collect(in, plan_now(), true);
  bool all = true;
  for (auto& [name, in] : instances_) all &= !in.touched || satisfied(in);
  return all;
}

FaultState ProcessDriver::state() const {
  FaultState st;
  st.apply_failures = apply_failures_;
  for (const auto& [name, in] : instances_) {
    if (!in.touched || !in.want.action.empty() || satisfied(in)) continue;
    std::string error = in.last_error;
    if (error.empty()) error = std::string("instance is ") + status_words(in.status);
    st.not_undone.push_back({"process", name, in.held_json, error});
  }
  return st;
}

}  // namespace faultline
