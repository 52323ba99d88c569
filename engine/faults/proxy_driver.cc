#include "faults/proxy_driver.h"

#include <rapidjson/document.h>

#include <set>
#include <stdexcept>

#include "common/error.h"
#include "common/json_parse.h"
#include "faults/tcp_proxy.h"

namespace faultline {

namespace {

// What a proxy holds when faultline cannot know it (a change was not confirmed).
constexpr const char* kUnknown = "(unknown: the proxy did not confirm its last change)";

// The integer attributes of a toxic, by the names the state uses (those of Toxic's fields).
int64_t* attribute(Toxic& t, const std::string& name) {
  if (name == "latency_ms") return &t.latency_ms;
  if (name == "jitter_ms") return &t.jitter_ms;
  if (name == "rate_kb_per_s") return &t.rate_kb_per_s;
  if (name == "timeout_ms") return &t.timeout_ms;
  if (name == "bytes") return &t.bytes;
  if (name == "average_size") return &t.average_size;
  if (name == "size_variation") return &t.size_variation;
  if (name == "delay_us") return &t.delay_us;
  if (name == "delay_ms") return &t.delay_ms;
  return nullptr;
}

Toxic parse_toxic(const rapidjson::Value& v, size_t index) {
  const std::string where = "toxic " + std::to_string(index + 1);
  if (!v.IsObject()) throw std::invalid_argument(where + " is not an object");
  Toxic t;
  bool has_name = false;
  bool has_type = false;
  auto text = [&](const rapidjson::Value& x, const std::string& key) {
    if (!x.IsString()) throw std::invalid_argument(where + ": " + key + " is not text");
    return std::string(x.GetString(), x.GetStringLength());
  };
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    const std::string key(m->name.GetString(), m->name.GetStringLength());
    const auto& x = m->value;
    if (key == "name") {
      t.name = text(x, key);
      has_name = true;
    } else if (key == "type") {
      const std::string type = text(x, key);
      const auto parsed = parse_toxic_type(type);
      if (!parsed) throw std::invalid_argument(where + ": unknown type \"" + type + "\"");
      t.type = *parsed;
      has_type = true;
    } else if (key == "direction") {
      const std::string direction = text(x, key);
      const auto parsed = parse_toxic_direction(direction);
      if (!parsed)
        throw std::invalid_argument(where + ": unknown direction \"" + direction +
                                    "\" (upstream or downstream)");
      t.direction = *parsed;
    } else if (key == "toxicity") {
      if (!x.IsNumber()) throw std::invalid_argument(where + ": toxicity is not a number");
      t.toxicity = x.GetDouble();
    } else if (int64_t* a = attribute(t, key)) {
      if (!x.IsInt64()) throw std::invalid_argument(where + ": " + key + " is not an integer");
      *a = x.GetInt64();
    } else {
      throw std::invalid_argument(where + ": unknown member \"" + key + "\"");
    }
  }
  if (!has_name) throw std::invalid_argument(where + " has no name");
  if (!has_type) throw std::invalid_argument("toxic '" + t.name + "' has no type");
  if (auto problem = toxic_problem(t)) throw std::invalid_argument(*problem);
  return t;
}

std::chrono::milliseconds ceil_ms(Duration d) {
  return d.count() <= 0 ? std::chrono::milliseconds(0)
                        : std::chrono::ceil<std::chrono::milliseconds>(d);
}

}  // namespace

std::vector<Toxic> parse_proxy_state(const std::string& state_json) {
  rapidjson::Document doc;
  JsonParseError error;
  if (!parse_json(state_json, &doc, &error))
    throw std::invalid_argument("proxy state is not JSON: " + error.describe());
  if (!doc.IsObject()) throw std::invalid_argument("proxy state is not an object");
  std::vector<Toxic> toxics;
  for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
    const std::string key(m->name.GetString(), m->name.GetStringLength());
    if (key != "toxics") throw std::invalid_argument("proxy state: unknown member \"" + key + "\"");
    if (!m->value.IsArray()) throw std::invalid_argument("proxy state: toxics is not a list");
    for (const auto& t : m->value.GetArray()) toxics.push_back(parse_toxic(t, toxics.size()));
  }
  std::set<std::string> names;
  for (const auto& t : toxics)
    if (!names.insert(t.name).second)
      throw std::invalid_argument("proxy state: two toxics are named '" + t.name + "'");
  return toxics;
}

ProxyDriver::ProxyDriver(ProxyOf proxy_of, ProxyDriverOptions options)
    : proxy_of_(std::move(proxy_of)), options_(options) {}

void ProxyDriver::preflight(const Plan& plan) {
  for (const auto& step : plan.fault_steps) {
    if (!handles(step)) continue;
    if (!proxies_.count(step.target)) {
      TcpProxy* proxy = proxy_of_(step.target);
      if (proxy == nullptr)
        throw EnvironmentError("preflight: the plan sets toxics on proxy '" + step.target +
                               "', which the environment does not declare: add it under proxies");
      proxies_[step.target].proxy = proxy;
    }
    try {
      parse_proxy_state(step.state_json);
    } catch (const std::invalid_argument& e) {
      throw EnvironmentError("preflight: proxy '" + step.target + "': " + e.what());
    }
  }
  // Start from no toxics whatever the proxy was given before.
  for (auto& [name, p] : proxies_) {
    FaultEvent ev;
    ev.kind = "proxy";
    ev.target = name;
    ev.action = "reset";
    ev.state_json = "{}";
    const auto started = Clock::now();
    p.proxy->remove_all_toxics();
    ev.ok = p.proxy->wait_applied(options_.confirm_timeout);
    ev.call_latency = std::chrono::duration_cast<Duration>(Clock::now() - started);
    if (!ev.ok) {
      const std::string why = p.proxy->last_error();
      ev.error = "not confirmed within " + std::to_string(options_.confirm_timeout.count()) +
                 " ms" + (why.empty() ? "" : ": " + why);
    }
    events_.push_back(ev);
    if (!ev.ok)
      throw EnvironmentError("preflight: removing the toxics of proxy '" + name +
                             "' failed: " + ev.error);
  }
}

void ProxyDriver::fail(ProxyState& p, FaultEvent ev, const std::string& error) {
  ev.ok = false;
  ev.error = error;
  apply_failures_.push_back("setting the toxics of proxy '" + ev.target + "' to " + ev.state_json +
                            " failed: " + error);
  events_.push_back(std::move(ev));
  p.failed = true;
  p.last_error = error;
}

void ProxyDriver::apply(const FaultStep& step, Duration now) {
  FaultEvent ev;
  ev.at = now;
  ev.phase = step.phase;
  ev.kind = "proxy";
  ev.target = step.target;
  ev.action = "apply";
  ev.state_json = step.state_json;
  auto it = proxies_.find(step.target);
  if (it == proxies_.end()) {
    TcpProxy* proxy = proxy_of_(step.target);
    if (proxy == nullptr) {
      ev.error = "the environment has no proxy of that name";
      apply_failures_.push_back("setting the toxics of proxy '" + step.target +
                                "' failed: " + ev.error);
      events_.push_back(std::move(ev));
      return;
    }
    it = proxies_.emplace(step.target, ProxyState{}).first;
    it->second.proxy = proxy;
  }
  ProxyState& p = it->second;
  p.desired = step.state_json;
  std::vector<Toxic> wanted;
  try {
    wanted = parse_proxy_state(step.state_json);
  } catch (const std::invalid_argument& e) {
    fail(p, std::move(ev), e.what());
    return;
  }
  p.touched = true;
  try {
    std::set<std::string> names;
    for (const auto& t : wanted) {
      p.proxy->set_toxic(t);
      names.insert(t.name);
    }
    for (const auto& held : p.proxy->toxics())
      if (!names.count(held.name)) p.proxy->remove_toxic(held.name);
  } catch (const std::invalid_argument& e) {
    fail(p, std::move(ev), e.what());
    return;
  }
  p.failed = false;
  p.last_error.clear();
  // Latency counts from the change; the event is recorded when the proxy confirms it.
  p.changed_at = Clock::now();
  p.unconfirmed.push_back(std::move(ev));
}

void ProxyDriver::tick(Duration) {
  for (auto& [name, p] : proxies_) {
    if (p.unconfirmed.empty()) continue;
    const auto latency = std::chrono::duration_cast<Duration>(Clock::now() - p.changed_at);
    if (p.proxy->wait_applied(std::chrono::milliseconds(0))) {
      // Every change made before the check is in effect, so every unconfirmed one is.
      p.confirmed = p.unconfirmed.back().state_json;
      for (auto& ev : p.unconfirmed) {
        ev.ok = true;
        ev.call_latency = latency;
        events_.push_back(std::move(ev));
      }
      p.unconfirmed.clear();
      continue;
    }
    if (latency < options_.confirm_timeout) continue;
    const std::string why = p.proxy->last_error();
    const std::string error = "the proxy did not confirm the change within " +
                              std::to_string(options_.confirm_timeout.count()) + " ms" +
                              (why.empty() ? "" : ": " + why);
    p.confirmed = kUnknown;
    std::vector<FaultEvent> unconfirmed = std::move(p.unconfirmed);
    p.unconfirmed.clear();
    for (auto& ev : unconfirmed) {
      ev.call_latency = latency;
      // Lifting toxics that is not confirmed is an undo problem (state().not_undone), not a
      // failure to apply what the plan wants.
      if (ev.state_json != "{}") {
        fail(p, std::move(ev), error);
      } else {
        ev.error = error;
        events_.push_back(std::move(ev));
        p.failed = true;
        p.last_error = error;
      }
    }
  }
}

bool ProxyDriver::undo_all(Duration now, const std::string& reason, Duration budget) {
  const auto started = Clock::now();
  const auto deadline = started + budget;
  // Every removal is made first, so the proxies act on them together; then each is awaited.
  for (auto& [name, p] : proxies_) {
    p.desired = "{}";
    if (p.touched) p.proxy->remove_all_toxics();
  }
  bool all = true;
  for (auto& [name, p] : proxies_) {
    if (!p.touched) continue;
    FaultEvent ev;
    ev.at = now + std::chrono::duration_cast<Duration>(Clock::now() - started);
    ev.phase = reason;
    ev.kind = "proxy";
    ev.target = name;
    ev.action = "undo";
    ev.state_json = "{}";
    const auto left = std::chrono::duration_cast<Duration>(deadline - Clock::now());
    ev.ok = p.proxy->wait_applied(ceil_ms(left));
    ev.call_latency = std::chrono::duration_cast<Duration>(Clock::now() - started);
    // The changes still unconfirmed were made before the undo: its confirmation covers them.
    const std::string last_set =
        p.unconfirmed.empty() ? p.confirmed : p.unconfirmed.back().state_json;
    for (auto& pending : p.unconfirmed) {
      pending.ok = ev.ok;
      pending.call_latency = std::chrono::duration_cast<Duration>(Clock::now() - p.changed_at);
      if (!ev.ok) pending.error = "not confirmed before the undo";
      events_.push_back(std::move(pending));
    }
    p.unconfirmed.clear();
    if (ev.ok) {
      p.confirmed = "{}";
      p.failed = false;
      p.last_error.clear();
    } else {
      const std::string why = p.proxy->last_error();
      ev.error = "the proxy did not confirm removing its toxics within " + format_duration(budget) +
                 (why.empty() ? "" : ": " + why);
      p.last_error = ev.error;
      p.confirmed = last_set == "{}" ? kUnknown : last_set;
      all = false;
    }
    events_.push_back(std::move(ev));
  }
  return all;
}

bool ProxyDriver::settled() const {
  for (const auto& [name, p] : proxies_)
    if (!p.unconfirmed.empty() || p.failed) return false;
  return true;
}

FaultState ProxyDriver::state() const {
  FaultState st;
  st.apply_failures = apply_failures_;
  for (const auto& [name, p] : proxies_) {
    if (!p.touched || p.desired != "{}" || p.confirmed == "{}") continue;
    st.not_undone.push_back({"proxy", name, p.confirmed, p.last_error});
  }
  return st;
}

}  // namespace faultline
