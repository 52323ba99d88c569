#include "faults/fault_knobs.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>

#include "common/text.h"

namespace faultline::demo {

namespace {

constexpr double kMaxKnobMs = 300'000;  // 5 minutes: longer is a broken scenario, not a fault

KnobSpec ms_knob(std::string name, std::string meaning) {
  return {std::move(name), KnobKind::kMilliseconds, 0, kMaxKnobMs, 0, std::move(meaning)};
}
KnobSpec fraction_knob(std::string name, std::string meaning) {
  return {std::move(name), KnobKind::kFraction, 0, 1, 0, std::move(meaning)};
}
KnobSpec percent_knob(std::string name, double def, std::string meaning) {
  return {std::move(name), KnobKind::kPercent, 0, 100, def, std::move(meaning)};
}
KnobSpec bool_knob(std::string name, std::string meaning) {
  return {std::move(name), KnobKind::kBool, 0, 1, 0, std::move(meaning)};
}

void add_db_knobs(std::vector<KnobSpec>& c) {
  c.push_back(ms_knob("db_latency_ms_add",
                      "milliseconds added to each simulated DB call selected by "
                      "db_latency_tail_pct"));
  c.push_back(percent_knob("db_latency_tail_pct", 100,
                           "percent of DB calls (targeted by request id) that get "
                           "db_latency_ms_add; 100 = all"));
  c.push_back(fraction_knob("db_fail_rate",
                            "fraction of DB calls (targeted by request id) that fail; the "
                            "request is answered 503"));
}

std::string format_number(double v, KnobKind kind) {
  if (kind == KnobKind::kBool) return v != 0 ? "true" : "false";
  if (kind == KnobKind::kMilliseconds || kind == KnobKind::kCount)
    return std::to_string(static_cast<int64_t>(v));
  std::ostringstream out;
  out << v;
  return out.str();
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_value(Writer& w, const KnobSpec& k, double v) {
  switch (k.kind) {
    case KnobKind::kBool:
      w.Bool(v != 0);
      break;
    case KnobKind::kMilliseconds:
    case KnobKind::kCount:
      w.Int64(static_cast<int64_t>(v));
      break;
    case KnobKind::kFraction:
    case KnobKind::kPercent:
      w.Double(v);
      break;
  }
}

// Checks one member against its spec; returns the value or sets *why.
std::optional<double> check_value(const KnobSpec& k, const rapidjson::Value& v, std::string* why) {
  const std::string range =
      "[" + format_number(k.min, k.kind) + ", " + format_number(k.max, k.kind) + "]";
  switch (k.kind) {
    case KnobKind::kBool:
      if (!v.IsBool()) {
        *why = "knob '" + k.name + "' takes a boolean (true or false)";
        return std::nullopt;
      }
      return v.GetBool() ? 1.0 : 0.0;
    case KnobKind::kMilliseconds:
    case KnobKind::kCount:
      if (!v.IsInt64()) {
        *why = "knob '" + k.name + "' takes an integer " +
               (k.kind == KnobKind::kCount ? "count" : "number of milliseconds") + " in " + range;
        return std::nullopt;
      }
      if (v.GetInt64() < k.min || v.GetInt64() > k.max) {
        *why = "knob '" + k.name + "' is out of range: " + std::to_string(v.GetInt64()) +
               " is not in " + range;
        return std::nullopt;
      }
      return static_cast<double>(v.GetInt64());
    case KnobKind::kFraction:
    case KnobKind::kPercent: {
      const std::string what = k.kind == KnobKind::kFraction ? "a fraction" : "a percent";
      if (!v.IsNumber()) {
        *why = "knob '" + k.name + "' takes " + what + " (a JSON number) in " + range;
        return std::nullopt;
      }
      const double d = v.GetDouble();
      if (!std::isfinite(d) || d < k.min || d > k.max) {
        *why = "knob '" + k.name + "' is out of range: " + format_number(d, k.kind) +
               " is not in " + range +
               (k.kind == KnobKind::kFraction && d > 1 && d <= 100
                    ? " (*_rate knobs are fractions: 0.2 means 20%)"
                    : "");
        return std::nullopt;
      }
      return d;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view knob_json_type(KnobKind kind) {
  switch (kind) {
    case KnobKind::kMilliseconds:
    case KnobKind::kCount:
      return "integer";
    case KnobKind::kFraction:
    case KnobKind::kPercent:
      return "number";
    case KnobKind::kBool:
      return "boolean";
  }
  return "number";
}

std::string_view knob_unit(KnobKind kind) {
  switch (kind) {
    case KnobKind::kMilliseconds:
      return "ms";
    case KnobKind::kFraction:
      return "fraction";
    case KnobKind::kPercent:
      return "percent";
    case KnobKind::kCount:
      return "count";
    case KnobKind::kBool:
      return "";
  }
  return "";
}

std::vector<KnobSpec> knob_catalog(Role role) {
  std::vector<KnobSpec> c;
  switch (role) {
    case Role::kApi:
      add_db_knobs(c);
      c.push_back(bool_knob("force_timeout",
                            "hold every business request (/users, /orders) until the knob is "
                            "turned off or --max-force-timeout passes (then 504)"));
      c.push_back(fraction_knob("enqueue_fail_rate",
                                "fraction of POST /orders (targeted by request id) whose enqueue "
                                "fails after the charge was captured, as if the broker refused "
                                "the job: 503 queue-unavailable, the order paid but not queued"));
      break;
    case Role::kPayment:
      add_db_knobs(c);
      c.push_back(fraction_knob("payment_fail_rate",
                                "fraction of charges (targeted by request id) answered 502"));
      c.push_back(ms_knob("payment_latency_ms_add",
                          "milliseconds added to the charges selected by payment_latency_pct"));
      c.push_back(percent_knob("payment_latency_pct", 100,
                               "percent of charges (targeted by request id) that get "
                               "payment_latency_ms_add; 100 = all"));
      c.push_back(bool_knob("force_timeout",
                            "hold POST /charge until the knob is turned off or "
                            "--max-force-timeout passes (then 504)"));
      break;
    case Role::kWorker:
      c.push_back(ms_knob("worker_delay_ms", "milliseconds added to the processing of every job"));
      c.push_back(fraction_knob("worker_fail_rate",
                                "fraction of jobs (targeted by order id) whose processing fails; "
                                "a failed job is retried up to --max-retries times, then "
                                "dead-lettered"));
      c.push_back(bool_knob("worker_skip_dedup",
                            "apply the effect of a job whose order was applied before (a "
                            "duplicate delivery) instead of suppressing it: a planted bug for "
                            "checks that look for duplicate effects"));
      break;
  }
  return c;
}

FaultState::FaultState(std::vector<KnobSpec> catalog) : catalog_(std::move(catalog)) {
  set_baseline_locked();
}

const KnobSpec* FaultState::find(std::string_view name) const {
  for (const auto& k : catalog_)
    if (k.name == name) return &k;
  return nullptr;
}

void FaultState::set_baseline_locked() {
  active_.clear();
  for (const auto& k : catalog_) active_[k.name] = k.default_value;
  lease_deadline_.reset();
}

void FaultState::expire_locked(Clock::time_point now) {
  if (lease_deadline_ && now >= *lease_deadline_) {
    set_baseline_locked();
    expiry_unreported_ = true;
  }
}

FaultState::ApplyResult FaultState::apply_json(std::string_view body, Clock::time_point now) {
  ApplyResult r;
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    r.message = std::string("malformed JSON at offset ") + std::to_string(doc.GetErrorOffset()) +
                ": " + rapidjson::GetParseError_En(doc.GetParseError());
    return r;
  }
  if (!doc.IsObject()) {
    r.message = "the body must be a JSON object of knob names to values (and optional ttl_ms)";
    return r;
  }
  std::vector<std::pair<const KnobSpec*, double>> updates;
  std::optional<int64_t> ttl_ms;
  std::set<std::string, std::less<>> seen;
  std::vector<std::string> names;
  for (const auto& k : catalog_) names.push_back(k.name);
  // Const iterators: clang 14 finds != on RapidJSON's mutable member iterators ambiguous.
  const rapidjson::Value& object = doc;
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    const std::string name(it->name.GetString(), it->name.GetStringLength());
    r.knob = name;
    if (!seen.insert(name).second) {
      r.message = "'" + name + "' is given twice";
      return r;
    }
    if (name == "ttl_ms") {
      if (!it->value.IsInt64() || it->value.GetInt64() < 1 || it->value.GetInt64() > kMaxTtlMs) {
        r.message = "ttl_ms takes an integer number of milliseconds in [1, " +
                    std::to_string(kMaxTtlMs) + "]";
        return r;
      }
      ttl_ms = it->value.GetInt64();
      continue;
    }
    const KnobSpec* spec = find(name);
    if (!spec) {
      r.message = "unknown knob '" + name + "' for this role";
      if (auto near = closest_match(name, names)) r.message += " (did you mean " + *near + "?)";
      r.message += "; GET /__faults lists the catalog";
      return r;
    }
    std::string why;
    auto value = check_value(*spec, it->value, &why);
    if (!value) {
      r.message = why;
      return r;
    }
    updates.emplace_back(spec, *value);
  }
  r.knob.clear();

  std::lock_guard<std::mutex> lock(mu_);
  expire_locked(now);
  for (const auto& [spec, value] : updates) {
    active_[spec->name] = value;
    if (!r.applied.empty()) r.applied.push_back(' ');
    r.applied += spec->name + "=" + format_number(value, spec->kind);
  }
  if (ttl_ms) {
    lease_deadline_ = now + std::chrono::milliseconds(*ttl_ms);
    if (!r.applied.empty()) r.applied.push_back(' ');
    r.applied += "ttl_ms=" + std::to_string(*ttl_ms);
  }
  r.ok = true;
  return r;
}

void FaultState::reset() {
  std::lock_guard<std::mutex> lock(mu_);
  set_baseline_locked();
}

bool FaultState::expire_if_due(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  expire_locked(now);
  const bool expired = expiry_unreported_;
  expiry_unreported_ = false;
  return expired;
}

double FaultState::value(std::string_view knob, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  expire_locked(now);
  auto it = active_.find(knob);
  if (it == active_.end()) throw std::logic_error("knob not in catalog: " + std::string(knob));
  return it->second;
}

std::optional<std::chrono::milliseconds> FaultState::lease_remaining_locked(
    Clock::time_point now) const {
  if (!lease_deadline_) return std::nullopt;
  // Round up: a lease with 0.4 ms left still exists and says 1.
  return std::chrono::ceil<std::chrono::milliseconds>(*lease_deadline_ - now);
}

bool FaultState::at_baseline_locked() const {
  for (const auto& k : catalog_)
    if (active_.at(k.name) != k.default_value) return false;
  return true;
}

std::optional<std::chrono::milliseconds> FaultState::lease_remaining(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  expire_locked(now);
  return lease_remaining_locked(now);
}

bool FaultState::at_baseline(Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  expire_locked(now);
  return at_baseline_locked();
}

std::string FaultState::state_json(std::string_view role, Clock::time_point now) {
  // One consistent snapshot: values, baseline flag and lease from the same moment.
  std::unique_lock<std::mutex> lock(mu_);
  expire_locked(now);
  const bool baseline = at_baseline_locked();
  const auto lease = lease_remaining_locked(now);
  const auto active = active_;
  lock.unlock();
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("role");
  w.String(role.data(), static_cast<rapidjson::SizeType>(role.size()));
  w.Key("active");
  w.StartObject();
  for (const auto& k : catalog_) {
    w.Key(k.name.c_str(), static_cast<rapidjson::SizeType>(k.name.size()));
    write_value(w, k, active.at(k.name));
  }
  w.EndObject();
  w.Key("baseline");
  w.Bool(baseline);
  w.Key("lease");
  w.StartObject();
  w.Key("expires_in_ms");
  if (lease)
    w.Int64(lease->count());
  else
    w.Null();
  w.EndObject();
  w.Key("catalog");
  w.StartArray();
  for (const auto& k : catalog_) {
    w.StartObject();
    w.Key("name");
    w.String(k.name);
    w.Key("type");
    const auto type = knob_json_type(k.kind);
    w.String(type.data(), static_cast<rapidjson::SizeType>(type.size()));
    if (k.kind != KnobKind::kBool) {
      w.Key("unit");
      const auto unit = knob_unit(k.kind);
      w.String(unit.data(), static_cast<rapidjson::SizeType>(unit.size()));
      w.Key("min");
      write_value(w, k, k.min);
      w.Key("max");
      write_value(w, k, k.max);
    }
    w.Key("default");
    write_value(w, k, k.default_value);
    w.Key("meaning");
    w.String(k.meaning);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace faultline::demo
