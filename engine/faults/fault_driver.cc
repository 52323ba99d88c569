#include "faults/fault_driver.h"

#include <rapidjson/document.h>

#include "common/error.h"
#include "net/http_call.h"

namespace faultline {

namespace {

constexpr std::chrono::milliseconds kCallTimeout{3000};
constexpr int kAttempts = 3;

std::string excerpt(const std::string& body) {
  return body.size() > 300 ? body.substr(0, 300) + "..." : body;
}

// Knob names from a GET /__faults body. The catalog is an array of {"name": ...} objects
// (docs/fault-contract.md); an object keyed by knob name is accepted too.
std::set<std::string> catalog_names(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  std::set<std::string> names;
  if (doc.HasParseError() || !doc.IsObject()) return names;
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
  doc.Parse(knobs_json.c_str(), knobs_json.size());
  std::set<std::string> keys;
  if (doc.IsObject())
    for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) keys.insert(m->name.GetString());
  return keys;
}

}  // namespace

FaultDriver::FaultDriver(std::vector<FaultEndpoint> endpoints, Duration lease)
    : endpoints_(std::move(endpoints)), lease_(lease) {}

FaultDriver::~FaultDriver() {
  undo_all(last_now_, "cleanup");
}

const FaultEndpoint& FaultDriver::endpoint(const std::string& service) const {
  for (const auto& e : endpoints_)
    if (e.service == service) return e;
  throw EnvironmentError("no fault endpoint for service '" + service + "'");
}

FaultEvent FaultDriver::post(const std::string& service, const std::string& path,
                             const std::string& body, Duration now) {
  const FaultEndpoint& ep = endpoint(service);
  HttpRequest req;
  req.method = "POST";
  req.url = ep.base_url + path;
  req.body = body;
  req.timeout = kCallTimeout;
  req.headers.push_back("Content-Type: application/json");
  if (!ep.token.empty()) req.headers.push_back("Authorization: Bearer " + ep.token);
  // A service in the middle of an incident may be slow to answer even its control plane:
  // retry what never got an answer (timeouts, resets), a few times, before calling it failed.
  HttpResponse resp;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    resp = http_call(req);
    if (resp.error_class != "timeout" && resp.error_class != "reset") break;
  }
  FaultEvent ev;
  ev.at = now;
  ev.service = service;
  ev.status = resp.status;
  ev.ok = resp.ok();
  ev.call_latency = resp.elapsed;
  if (!resp.error.empty())
    ev.error = resp.error;
  else if (!ev.ok)
    ev.error = "HTTP " + std::to_string(resp.status) + ": " + excerpt(resp.body);
  last_now_ = now;
  return ev;
}

void FaultDriver::preflight(const Plan& plan) {
  std::map<std::string, std::set<std::string>> needed;
  for (const auto& step : plan.fault_steps) {
    auto& knobs = needed[step.service];
    for (const auto& k : knob_keys(step.knobs_json)) knobs.insert(k);
  }
  for (const auto& [service, knobs] : needed) {
    const FaultEndpoint& ep = endpoint(service);
    HttpRequest req;
    req.url = ep.base_url + "/__faults";
    req.timeout = kCallTimeout;
    if (!ep.token.empty()) req.headers.push_back("Authorization: Bearer " + ep.token);
    const HttpResponse resp = http_call(req);
    if (!resp.error.empty())
      throw EnvironmentError("preflight: service '" + service + "' at " + ep.base_url +
                             " is unreachable: " + resp.error);
    if (resp.status == 404)
      throw EnvironmentError("preflight: service '" + service +
                             "' has no /__faults endpoint "
                             "(404): start it with faults enabled (and not in production mode)");
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
        throw EnvironmentError("preflight: service '" + service + "' does not offer knob '" + knob +
                               "' (its catalog: " +
                               [&] {
                                 std::string list;
                                 for (const auto& c : catalog)
                                   list += (list.empty() ? "" : ", ") + c;
                                 return list.empty() ? std::string("empty") : list;
                               }() +
                               ")");
    // Start from baseline whatever an earlier run left behind.
    FaultEvent ev = post(service, "/__faults/reset", "", Duration{0});
    ev.action = "reset";
    ev.knobs_json = "{}";
    events_.push_back(ev);
    if (!ev.ok)
      throw EnvironmentError("preflight: resetting faults on '" + service +
                             "' failed: " + ev.error);
  }
}

const FaultEvent& FaultDriver::apply(const FaultStep& step, Duration now) {
  const std::string previous = current_.count(step.service) ? current_[step.service] : "{}";
  FaultEvent ev;
  if (step.is_reset()) {
    ev = post(step.service, "/__faults/reset", "", now);
    ev.action = "reset";
    if (ev.ok) current_.erase(step.service);
  } else {
    // POST merges; knobs of the previous step that the new one drops need a reset first.
    const auto before = knob_keys(previous);
    const auto after = knob_keys(step.knobs_json);
    bool drops = false;
    for (const auto& k : before) drops |= !after.count(k);
    if (drops) {
      FaultEvent reset = post(step.service, "/__faults/reset", "", now);
      reset.action = "reset";
      reset.phase = step.phase;
      reset.knobs_json = "{}";
      events_.push_back(reset);
    }
    touched_.insert(step.service);
    ev = post(step.service, "/__faults", with_ttl(step.knobs_json, lease_), now);
    ev.action = "apply";
    if (ev.ok) {
      current_[step.service] = step.knobs_json;
      last_post_[step.service] = now;
    }
  }
  ev.phase = step.phase;
  ev.knobs_json = step.knobs_json;
  events_.push_back(ev);
  return events_.back();
}

void FaultDriver::renew(Duration now) {
  for (const auto& [service, knobs] : current_) {
    if (now - last_post_[service] < lease_ / 2) continue;
    FaultEvent ev = post(service, "/__faults", with_ttl(knobs, lease_), now);
    ev.action = "renew";
    ev.knobs_json = knobs;
    if (ev.ok) last_post_[service] = now;
    events_.push_back(ev);
  }
}

bool FaultDriver::undo_all(Duration now, const std::string& reason) {
  bool all_ok = true;
  for (const auto& service : touched_) {
    FaultEvent ev = post(service, "/__faults/reset", "", now);
    ev.action = "undo";
    ev.phase = reason;
    ev.knobs_json = "{}";
    all_ok &= ev.ok;
    events_.push_back(ev);
  }
  touched_.clear();
  current_.clear();
  return all_ok;
}

}  // namespace faultline
