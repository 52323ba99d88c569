#include "faults/knob_driver.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/error.h"
#include "common/json_parse.h"

namespace faultline {

namespace {

// What a service holds when faultline cannot know it (an answer was lost).
constexpr const char* kUnknown = "(unknown: an apply may have landed)";

std::string excerpt(const std::string& body) {
  return body.size() > 300 ? body.substr(0, 300) + "..." : body;
}

// Knob names from a GET /__faults body. The catalog is an array of {"name": ...} objects
// (docs/fault-contract.md); an object keyed by knob name is accepted too.
std::set<std::string> catalog_names(const std::string& body) {
  rapidjson::Document doc;
  std::set<std::string> names;
  if (!parse_json(body, &doc) || !doc.IsObject()) return names;
  auto it = doc.FindMember("catalog");
  if (it == doc.MemberEnd()) return names;
  if (it->value.IsArray()) {
    for (const auto& entry : it->value.GetArray()) {
      if (!entry.IsObject()) continue;
      auto name = entry.FindMember("name");
      if (name != entry.MemberEnd() && name->value.IsString())
        names.insert(name->value.GetString());
    }
  } else if (it->value.IsObject()) {
    for (auto m = it->value.MemberBegin(); m != it->value.MemberEnd(); ++m)
      names.insert(m->name.GetString());
  }
  return names;
}

// {"a":1} + ttl -> {"a":1,"ttl_ms":N}
std::string with_ttl(const std::string& knobs_json, Duration lease) {
  const std::string ttl = "\"ttl_ms\":" + std::to_string(lease.count() / 1000);
  if (knobs_json == "{}") return "{" + ttl + "}";
  return knobs_json.substr(0, knobs_json.size() - 1) + "," + ttl + "}";
}

std::set<std::string> knob_keys(const std::string& knobs_json) {
  rapidjson::Document doc;
  std::set<std::string> keys;
  if (parse_json(knobs_json, &doc) && doc.IsObject())
    for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) keys.insert(m->name.GetString());
  return keys;
}

}  // namespace

KnobDriver::KnobDriver(EndpointOf endpoint_of, KnobDriverOptions options, Transport transport)
    : endpoint_of_(std::move(endpoint_of)), options_(options), transport_(std::move(transport)) {}

KnobDriver::~KnobDriver() {
  for (auto& [name, s] : services_)
    if (s.call.valid()) s.call.wait();
}

KnobDriver::ServiceState& KnobDriver::service(const std::string& name) {
  auto it = services_.find(name);
  if (it == services_.end()) throw EnvironmentError("no fault endpoint for service '" + name + "'");
  return it->second;
}

// Runs the planned calls in order on the caller's thread, stopping at the first failure.
// Each event names its action and knobs; the path and body follow from them.
std::vector<KnobDriver::CallResult> KnobDriver::perform(const FaultEndpoint& ep,
                                                        std::vector<FaultEvent> planned) const {
  std::vector<CallResult> out;
  for (auto& ev : planned) {
    const bool reset = ev.state_json == "{}";
    const KnobProtocol& proto = options_.protocol;
    HttpRequest req;
    req.method = reset ? proto.reset_method : proto.set_method;
    req.url = ep.base_url + (reset ? proto.reset_path : proto.path);
    req.body = reset ? "" : with_ttl(ev.state_json, options_.lease);
    req.timeout = options_.call_timeout;
    req.max_body_bytes = 1 << 20;
    req.headers.push_back("Content-Type: application/json");
    if (!ep.token.empty()) req.headers.push_back("Authorization: Bearer " + ep.token);
    const HttpResponse resp = transport_(req);
    ev.status = resp.status;
    ev.ok = resp.ok();
    ev.call_latency = resp.elapsed;
    if (!resp.error.empty())
      ev.error = resp.error;
    else if (!ev.ok)
      ev.error = "HTTP " + std::to_string(resp.status) + ": " + excerpt(resp.body);
    const bool ok = ev.ok;
    const std::string established = ev.state_json;
    out.push_back({std::move(ev), established});
    if (!ok) break;
  }
  return out;
}

void KnobDriver::preflight(const Plan& plan) {
  std::map<std::string, std::set<std::string>> needed;
  for (const auto& step : plan.fault_steps) {
    if (!handles(step)) continue;
    auto& knobs = needed[step.target];
    for (const auto& k : knob_keys(step.state_json)) knobs.insert(k);
  }
  for (const auto& [service, knobs] : needed) {
    ServiceState& s = services_[service];
    s.endpoint = endpoint_of_(service);
    const FaultEndpoint& ep = s.endpoint;
    HttpRequest req;
    req.url = ep.base_url + options_.protocol.path;
    req.timeout = options_.call_timeout;
    if (!ep.token.empty()) req.headers.push_back("Authorization: Bearer " + ep.token);
    const HttpResponse resp = transport_(req);
    if (!resp.error.empty())
      throw EnvironmentError("preflight: service '" + service + "' at " + ep.base_url +
                             " is unreachable: " + resp.error);
    if (resp.status == 404)
      throw EnvironmentError("preflight: service '" + service + "' has no " +
                             options_.protocol.path +
                             " endpoint (404): start it with faults enabled (and not in "
                             "production mode)");
    if (resp.status == 401 || resp.status == 403)
      throw EnvironmentError("preflight: service '" + service + "' refused the fault token (" +
                             std::to_string(resp.status) + "): set fault_token in the environment");
    if (resp.status != 200)
      throw EnvironmentError("preflight: GET " + req.url + " answered " +
                             std::to_string(resp.status) + ": " + excerpt(resp.body));
    const std::set<std::string> catalog = catalog_names(resp.body);
    catalogs_[service] = catalog;
    for (const auto& knob : knobs)
      if (!catalog.count(knob))
        throw EnvironmentError("preflight: service '" + service + "' does not offer " +
                               (options_.protocol.kind == "levers" ? "lever" : "knob") + " '" +
                               knob + "' (its catalog: " +
                               [&] {
                                 std::string list;
                                 for (const auto& c : catalog)
                                   list += (list.empty() ? "" : ", ") + c;
                                 return list.empty() ? std::string("empty") : list;
                               }() +
                               ")");
    // Start from baseline whatever an earlier run left behind.
    FaultEvent reset;
    reset.kind = options_.protocol.kind;
    reset.target = service;
    reset.action = "reset";
    reset.state_json = "{}";
    const FaultEvent ev = perform(ep, {reset}).front().event;
    events_.push_back(ev);
    if (!ev.ok)
      throw EnvironmentError("preflight: resetting " + options_.protocol.kind + " on '" + service +
                             "' failed: " + ev.error);
  }
}

void KnobDriver::start_call(ServiceState& s, Duration now, const std::string& undo_reason) {
  std::vector<FaultEvent> planned;
  auto event = [&](const char* action, const std::string& knobs) {
    FaultEvent ev;
    ev.at = now;
    ev.phase = undo_reason.empty() ? s.phase : undo_reason;
    ev.kind = options_.protocol.kind;
    ev.target = s.endpoint.service;
    ev.action = action;
    ev.state_json = knobs;
    planned.push_back(std::move(ev));
  };
  if (s.desired == s.confirmed) {
    event("renew", s.desired);
  } else if (s.desired == "{}") {
    event(undo_reason.empty() ? "reset" : "undo", "{}");
  } else {
    // POST merges: knobs held now that the new step drops need a reset first.
    const auto before = knob_keys(s.confirmed);
    const auto after = knob_keys(s.desired);
    if (std::any_of(before.begin(), before.end(), [&](auto& k) { return !after.count(k); }))
      event("reset", "{}");
    event("apply", s.desired);
    s.touched = true;
  }
  s.call = std::async(std::launch::async,
                      [this, ep = s.endpoint, planned = std::move(planned)]() mutable {
                        return perform(ep, std::move(planned));
                      });
}

bool KnobDriver::collect(ServiceState& s, Duration now, bool wait) {
  if (!s.call.valid()) return true;
  if (!wait && s.call.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
  const std::vector<CallResult> results = s.call.get();
  for (const auto& r : results) {
    events_.push_back(r.event);
    if (r.event.ok) {
      s.confirmed = r.established;
      s.last_ack = now;
      s.last_error.clear();
      continue;
    }
    s.last_error = r.event.error;
    s.retry_at = now + options_.retry_interval;
    // An apply the plan still wants failed: the incident cannot be reproduced as planned.
    if (r.event.action == "apply" && s.desired == r.event.state_json)
      apply_failures_.push_back("applying faults to '" + s.endpoint.service + "' (" +
                                r.event.state_json + ") failed: " + r.event.error);
  }
  return true;
}

void KnobDriver::apply(const FaultStep& step, Duration now) {
  ServiceState& s = service(step.target);
  s.desired = step.state_json;
  s.phase = step.phase;
  s.retry_at = now;  // a new step is tried at once, even after failures
  if (collect(s, now, false)) start_call(s, now, "");
}

void KnobDriver::tick(Duration now) {
  for (auto& [name, s] : services_) {
    if (!collect(s, now, false)) continue;
    if (s.desired != s.confirmed) {
      // Failed applies are not retried (the run ends on them); failed resets are.
      const bool failed_apply = s.desired != "{}" && !s.last_error.empty();
      if (!failed_apply && now >= s.retry_at) start_call(s, now, "");
    } else if (s.desired != "{}" && now - s.last_ack >= options_.lease / 2 && now >= s.retry_at) {
      start_call(s, now, "");
    }
  }
}

bool KnobDriver::undo_all(Duration now, const std::string& reason, Duration budget) {
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  const auto deadline = started + budget;
  auto plan_now = [&] {
    return now + std::chrono::duration_cast<Duration>(Clock::now() - started);
  };
  for (auto& [name, s] : services_) {
    if (!s.touched) continue;
    s.desired = "{}";
    // A touched service always gets the undo, even when it last acknowledged baseline: an
    // apply whose answer was lost (a timeout) may still have landed.
    if (s.confirmed == "{}") s.confirmed = kUnknown;
    s.retry_at = Duration::min();
    s.last_error.clear();
  }
  while (true) {
    bool pending = false;
    for (auto& [name, s] : services_) {
      if (!s.touched || s.desired == s.confirmed) continue;
      if (!collect(s, plan_now(), false)) {
        pending = true;
        continue;
      }
      if (s.desired == s.confirmed) continue;
      pending = true;
      if (Clock::now() < deadline && (s.last_error.empty() || plan_now() >= s.retry_at))
        start_call(s, plan_now(), reason);
    }
    if (!pending || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Calls still under way at the deadline are awaited (each is bounded by its timeout) so
  // their outcome is recorded, but not retried.
  for (auto& [name, s] : services_) collect(s, plan_now(), true);
  bool all = true;
  for (auto& [name, s] : services_) all &= !s.touched || s.confirmed == "{}";
  return all;
}

bool KnobDriver::calls_under_way() const {
  for (const auto& [name, s] : services_)
    if (s.call.valid()) return true;
  return false;
}

bool KnobDriver::settled() const {
  for (const auto& [name, s] : services_)
    if (s.call.valid() || s.desired != s.confirmed) return false;
  return true;
}

FaultState KnobDriver::state() const {
  FaultState st;
  st.apply_failures = apply_failures_;
  for (const auto& [name, s] : services_) {
    if (!s.touched || s.confirmed == "{}" || s.desired != "{}") continue;
    st.not_undone.push_back({options_.protocol.kind, name, s.confirmed, s.last_error});
  }
  return st;
}

}  // namespace faultline
