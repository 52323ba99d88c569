#include "plan/plan_json.h"

#include <algorithm>
#include <iterator>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <rapidjson/document.h>

#include "common/error.h"
#include "common/json_out.h"
#include "common/json_parse.h"
#include "common/sha256.h"
#include "plan/compiler.h"

namespace faultline {

namespace {

const char* arrival_name(ArrivalProcess p) {
  return p == ArrivalProcess::kPoisson ? "poisson" : "constant";
}

const char* var_kind_name(VarSpec::Kind k) {
  switch (k) {
    case VarSpec::Kind::kUniform:
      return "uniform";
    case VarSpec::Kind::kZipf:
      return "zipf";
    case VarSpec::Kind::kChoice:
      return "choice";
    case VarSpec::Kind::kSequence:
      return "sequence";
  }
  return "?";
}

// Writes the canonical members of the plan into an already-open object. Key order here IS
// the canonical order; never reorder without bumping Plan::kAlgorithm.
void write_plan_members(JsonOut& j, const Plan& p) {
  j.member("algorithm", Plan::kAlgorithm);
  j.member("scenario", p.scenario_name);
  j.member("target", p.target);
  j.member("seed", static_cast<uint64_t>(p.seed));
  j.member("base_rate", static_cast<double>(p.base_rate));
  j.member("total_us", static_cast<int64_t>(p.total.count()));

  j.key("phases");
  j.begin_array();
  for (const auto& ph : p.phases) {
    j.begin_object();
    j.member("name", ph.name);
    j.member("start_us", static_cast<int64_t>(ph.start.count()));
    j.member("end_us", static_cast<int64_t>(ph.end.count()));
    j.member("rate_from", static_cast<double>(ph.rate_from));
    j.member("rate_to", static_cast<double>(ph.rate_to));
    j.end_object();
  }
  j.end_array();

  j.key("traffic");
  j.begin_object();
  j.member("arrival", arrival_name(p.arrival));
  j.member("timeout_us", static_cast<int64_t>(p.request_timeout.count()));
  j.member("max_in_flight", static_cast<int>(p.max_in_flight));
  j.key("routes");
  j.begin_array();
  for (const auto& r : p.routes) {
    j.begin_object();
    j.member("name", r.name);
    j.member("weight", static_cast<double>(r.weight));
    j.member("method", r.method);
    j.member("path", r.path_template);
    j.key("headers");
    j.begin_array();
    for (const auto& [name, value] : r.header_templates) {
      j.begin_array();
      j.value(name);
      j.value(value);
      j.end_array();
    }
    j.end_array();
    j.member("body", r.body_template);
    if (!r.ack_id.empty()) j.member("ack_id", r.ack_id);  // only when set: older hashes hold
    j.key("vars");
    j.begin_array();
    for (const auto& v : r.vars) {
      j.begin_object();
      j.member("name", v.name);
      j.member("kind", var_kind_name(v.kind));
      switch (v.kind) {
        case VarSpec::Kind::kUniform:
          j.member("lo", static_cast<int64_t>(v.lo));
          j.member("hi", static_cast<int64_t>(v.hi));
          break;
        case VarSpec::Kind::kZipf:
          j.member("n", static_cast<uint64_t>(v.n));
          j.member("s", static_cast<double>(v.s));
          break;
        case VarSpec::Kind::kChoice:
          j.key("choices");
          j.begin_array();
          for (const auto& c : v.choices) j.value(c);
          j.end_array();
          break;
        case VarSpec::Kind::kSequence:
          j.member("start", static_cast<int64_t>(v.start));
          j.member("step", static_cast<int64_t>(v.step));
          break;
      }
      j.end_object();
    }
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.end_object();

  j.key("faults");
  j.begin_array();
  for (const auto& f : p.fault_steps) {
    j.begin_object();
    j.member("at_us", static_cast<int64_t>(f.at.count()));
    j.member("phase", f.phase);
    // Knob steps keep the form of faultline-plan/1 plans written before there were other
    // kinds, so their hashes did not change.
    if (f.kind == "knobs") {
      j.member("service", f.target);
      j.key("knobs");
    } else {
      j.member("kind", f.kind);
      j.member("target", f.target);
      j.key("state");
    }
    j.raw(f.state_json);
    j.end_object();
  }
  j.end_array();

  j.key("observe");
  j.begin_object();
  j.member("interval_us", static_cast<int64_t>(p.scrape_interval.count()));
  j.key("targets");
  j.begin_array();
  for (const auto& t : p.scrape_targets) {
    j.begin_array();
    j.value(t.service);
    j.value(t.path);
    j.end_array();
  }
  j.end_array();
  j.key("metrics");
  j.begin_array();
  for (const auto& m : p.metrics_of_interest) j.value(m);
  j.end_array();
  j.member("min_requests", static_cast<int64_t>(p.guard.min_requests));
  j.member("min_histogram_count", static_cast<int64_t>(p.guard.min_histogram_count));
  j.end_object();

  j.key("tolerance");
  j.begin_object();
  j.member("relative", static_cast<double>(p.tolerance.relative));
  j.member("absolute", static_cast<double>(p.tolerance.absolute));
  j.member("baseline_phase", p.tolerance.baseline_phase);
  j.end_object();

  auto statements = [&](const char* key, const std::vector<PlannedStatement>& list) {
    j.key(key);
    j.begin_array();
    for (const auto& s : list) j.value(s.text);
    j.end_array();
  };
  statements("assert", p.assertions);
  statements("abort_if", p.abort_if);
  statements("compare", p.compare_gates);

  // Only when there are hooks, so plans without them keep their hashes.
  if (!p.hooks.empty()) {
    j.key("hooks");
    j.begin_object();
    for (const bool verify : {false, true}) {
      j.key(verify ? "verify" : "setup");
      j.begin_array();
      for (const auto& h : verify ? p.hooks.verify : p.hooks.setup) {
        j.begin_object();
        j.member("name", h.name);
        j.key("exec");
        j.begin_array();
        for (const auto& a : h.exec) j.value(a);
        j.end_array();
        j.member("http_service", h.http_service);
        j.member("http_path", h.http_path);
        j.member("http_method", h.http_method);
        j.member("wait_us", static_cast<int64_t>(h.wait.count()));
        j.member("timeout_us", static_cast<int64_t>(h.timeout.count()));
        j.member("retry_until_ok_us",
                 static_cast<int64_t>(h.retry_until_ok ? h.retry_until_ok->count() : -1));
        j.member("applied_ids", h.applied_ids);
        j.end_object();
      }
      j.end_array();
    }
    j.end_object();
  }
}

void write_arrival(JsonOut& j, const Arrival& a) {
  j.begin_object();
  j.member("seq", static_cast<uint64_t>(a.seq));
  j.member("intended_us", static_cast<int64_t>(a.intended.count()));
  j.member("phase", static_cast<uint64_t>(a.phase));
  j.member("route", static_cast<uint64_t>(a.route));
  j.member("method", a.method);
  j.member("path", a.path);
  j.key("headers");
  j.begin_array();
  for (const auto& [name, value] : a.headers) {
    j.begin_array();
    j.value(name);
    j.value(value);
    j.end_array();
  }
  j.end_array();
  j.member("body", a.body);
  j.member("request_id", a.request_id);
  j.member("traceparent", a.traceparent);
  j.end_object();
}

void write_full_plan(JsonOut& j, const Plan& plan, size_t first_arrivals) {
  j.begin_object();
  j.member("plan_hash", plan.plan_hash);
  j.member("description", plan.description);
  write_plan_members(j, plan);
  j.key("expected_requests");
  j.begin_object();
  for (const auto& ph : plan.phases) {
    j.key(ph.name);
    j.value(static_cast<double>(ph.expected_requests()));
  }
  j.end_object();
  if (first_arrivals > 0) {
    j.key("arrivals");
    j.begin_array();
    ArrivalStream stream(plan);
    for (size_t i = 0; i < first_arrivals; ++i) {
      auto a = stream.next();
      if (!a) break;
      write_arrival(j, *a);
    }
    j.end_array();
  }
  j.end_object();
}

}  // namespace

std::string canonical_plan_json(const Plan& plan) {
  JsonOut j(JsonOut::kCompact);
  j.begin_object();
  write_plan_members(j, plan);
  j.end_object();
  return j.text();
}

std::string compute_plan_hash(const Plan& plan) {
  return sha256_hex(canonical_plan_json(plan));
}

std::string plan_to_json(const Plan& plan, size_t first_arrivals, bool pretty) {
  JsonOut j(pretty ? JsonOut::kPretty : JsonOut::kCompact);
  write_full_plan(j, plan, first_arrivals);
  return j.text();
}

namespace {

// Typed access with a message that names the member, for plan_from_json.
class Reader {
 public:
  explicit Reader(const rapidjson::Value& v, std::string where) : v_(v), where_(std::move(where)) {
    if (!v_.IsObject()) fail("an object");
  }
  bool has(const char* key) const { return v_.HasMember(key); }
  const rapidjson::Value& get(const char* key) const {
    auto it = v_.FindMember(key);
    if (it == v_.MemberEnd()) throw UsageError("plan JSON: " + where_ + "." + key + " is missing");
    return it->value;
  }
  std::string str(const char* key) const {
    const auto& v = get(key);
    if (!v.IsString()) fail(key, "a string");
    return {v.GetString(), v.GetStringLength()};
  }
  int64_t i64(const char* key) const {
    const auto& v = get(key);
    if (!v.IsInt64()) fail(key, "an integer");
    return v.GetInt64();
  }
  uint64_t u64(const char* key) const {
    const auto& v = get(key);
    if (!v.IsUint64()) fail(key, "an unsigned integer");
    return v.GetUint64();
  }
  double num(const char* key) const {
    const auto& v = get(key);
    if (!v.IsNumber()) fail(key, "a number");
    return v.GetDouble();
  }
  const rapidjson::Value& array(const char* key) const {
    const auto& v = get(key);
    if (!v.IsArray()) fail(key, "an array");
    return v;
  }
  Reader object(const char* key) const { return Reader(get(key), where_ + "." + key); }
  std::vector<std::string> strings(const char* key) const {
    std::vector<std::string> out;
    for (const auto& e : array(key).GetArray()) {
      if (!e.IsString()) fail(key, "an array of strings");
      out.emplace_back(e.GetString(), e.GetStringLength());
    }
    return out;
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw UsageError("plan JSON: " + where_ + " must be " + what);
  }
  [[noreturn]] void fail(const char* key, const char* what) const {
    throw UsageError("plan JSON: " + where_ + "." + key + " must be " + what);
  }
  const rapidjson::Value& v_;
  std::string where_;
};

std::vector<std::pair<std::string, std::string>> string_pairs(const rapidjson::Value& list) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : list.GetArray()) {
    if (!e.IsArray() || e.Size() != 2 || !e[0].IsString() || !e[1].IsString())
      throw UsageError("plan JSON: expected [name, value] pairs");
    out.emplace_back(e[0].GetString(), e[1].GetString());
  }
  return out;
}

VarSpec read_var(const Reader& r) {
  VarSpec v;
  v.name = r.str("name");
  const std::string kind = r.str("kind");
  if (kind == "uniform") {
    v.kind = VarSpec::Kind::kUniform;
    v.lo = r.i64("lo");
    v.hi = r.i64("hi");
  } else if (kind == "zipf") {
    v.kind = VarSpec::Kind::kZipf;
    v.n = r.u64("n");
    v.s = r.num("s");
  } else if (kind == "choice") {
    v.kind = VarSpec::Kind::kChoice;
    v.choices = r.strings("choices");
  } else if (kind == "sequence") {
    v.kind = VarSpec::Kind::kSequence;
    v.start = r.i64("start");
    v.step = r.i64("step");
  } else {
    throw UsageError("plan JSON: unknown var kind '" + kind + "'");
  }
  return v;
}

std::vector<PlannedStatement> statements(const Reader& r, const char* key,
                                         dsl::StatementKind kind) {
  std::vector<PlannedStatement> out;
  for (auto& text : r.strings(key))
    out.push_back(plan_statement(std::move(text), {}, kind, std::string("plan JSON ") + key));
  return out;
}

}  // namespace

Plan plan_from_json(const std::string& json) {
  rapidjson::Document doc;
  JsonParseError error;
  if (!parse_json(json, &doc, &error))
    throw UsageError("plan JSON does not parse: " + error.describe());
  const Reader root(doc, "plan");
  if (root.str("algorithm") != Plan::kAlgorithm)
    throw UsageError("plan JSON was made by " + root.str("algorithm") + "; this faultline reads " +
                     Plan::kAlgorithm);
  Plan p;
  p.scenario_name = root.str("scenario");
  if (doc.HasMember("description") && doc["description"].IsString())
    p.description = doc["description"].GetString();
  p.target = root.str("target");
  p.seed = root.u64("seed");
  p.base_rate = root.num("base_rate");
  p.total = Duration{root.i64("total_us")};
  for (const auto& e : root.array("phases").GetArray()) {
    const Reader ph(e, "phases[]");
    p.phases.push_back({ph.str("name"), Duration{ph.i64("start_us")}, Duration{ph.i64("end_us")},
                        ph.num("rate_from"), ph.num("rate_to")});
  }
  const Reader traffic = root.object("traffic");
  p.arrival =
      traffic.str("arrival") == "poisson" ? ArrivalProcess::kPoisson : ArrivalProcess::kConstant;
  p.request_timeout = Duration{traffic.i64("timeout_us")};
  p.max_in_flight = static_cast<int>(traffic.i64("max_in_flight"));
  for (const auto& e : traffic.array("routes").GetArray()) {
    const Reader r(e, "traffic.routes[]");
    RouteSpec route;
    route.name = r.str("name");
    route.weight = r.num("weight");
    route.method = r.str("method");
    route.path_template = r.str("path");
    route.header_templates = string_pairs(r.array("headers"));
    route.body_template = r.str("body");
    if (r.has("ack_id")) route.ack_id = r.str("ack_id");
    for (const auto& v : r.array("vars").GetArray())
      route.vars.push_back(read_var(Reader(v, "vars[]")));
    p.routes.push_back(std::move(route));
  }
  for (const auto& e : root.array("faults").GetArray()) {
    const Reader f(e, "faults[]");
    FaultStep step;
    step.at = Duration{f.i64("at_us")};
    step.phase = f.str("phase");
    const bool knobs = !f.has("kind");
    step.kind = knobs ? "knobs" : f.str("kind");
    if (std::find(std::begin(kFaultKinds), std::end(kFaultKinds), step.kind) ==
        std::end(kFaultKinds))
      throw UsageError("plan JSON: faults[] has an unknown kind '" + step.kind + "'");
    step.target = f.str(knobs ? "service" : "target");
    rapidjson::StringBuffer state;
    rapidjson::Writer<rapidjson::StringBuffer> sw(state);
    f.get(knobs ? "knobs" : "state").Accept(sw);
    step.state_json.assign(state.GetString(), state.GetSize());
    p.fault_steps.push_back(std::move(step));
  }
  const Reader observe = root.object("observe");
  p.scrape_interval = Duration{observe.i64("interval_us")};
  for (const auto& [service, path] : string_pairs(observe.array("targets")))
    p.scrape_targets.push_back({service, path});
  p.metrics_of_interest = observe.strings("metrics");
  p.guard.min_requests = observe.i64("min_requests");
  p.guard.min_histogram_count = observe.i64("min_histogram_count");
  const Reader tolerance = root.object("tolerance");
  p.tolerance.relative = tolerance.num("relative");
  p.tolerance.absolute = tolerance.num("absolute");
  p.tolerance.baseline_phase = tolerance.str("baseline_phase");
  p.assertions = statements(root, "assert", dsl::StatementKind::kAssertion);
  p.abort_if = statements(root, "abort_if", dsl::StatementKind::kAbortIf);
  p.compare_gates = statements(root, "compare", dsl::StatementKind::kCompareGate);
  if (root.has("hooks")) {
    const Reader hooks = root.object("hooks");
    for (const bool verify : {false, true}) {
      const char* key = verify ? "verify" : "setup";
      for (const auto& e : hooks.array(key).GetArray()) {
        const Reader h(e, std::string("hooks.") + key + "[]");
        HookSpec spec;
        spec.name = h.str("name");
        spec.exec = h.strings("exec");
        spec.http_service = h.str("http_service");
        spec.http_path = h.str("http_path");
        spec.http_method = h.str("http_method");
        spec.wait = Duration{h.i64("wait_us")};
        spec.timeout = Duration{h.i64("timeout_us")};
        if (const int64_t r = h.i64("retry_until_ok_us"); r >= 0) spec.retry_until_ok = Duration{r};
        spec.applied_ids = h.str("applied_ids");
        if (spec.exec.empty() == spec.http_service.empty())
          throw UsageError("plan JSON: hook '" + spec.name + "' has neither or both exec and http");
        (verify ? p.hooks.verify : p.hooks.setup).push_back(std::move(spec));
      }
    }
  }
  // plan.json comes from disk and its hash is no defence (anyone can compute one): bound what
  // scrape_ticks_for loops over, one tick per interval, before it runs.
  constexpr int64_t kMaxTotalUs = int64_t{1} << 52;  // about 140 years
  constexpr int64_t kMaxScrapeTicks = 1'000'000;
  if (p.total.count() < 0 || p.total.count() > kMaxTotalUs)
    throw UsageError("plan JSON: total_us " + std::to_string(p.total.count()) +
                     " is out of range (0 to " + std::to_string(kMaxTotalUs) + ")");
  if (p.scrape_interval.count() > 0 &&
      (p.scrape_interval.count() > kMaxTotalUs ||
       p.total.count() / p.scrape_interval.count() > kMaxScrapeTicks))
    throw UsageError("plan JSON: observe.interval_us " + std::to_string(p.scrape_interval.count()) +
                     " over total_us " + std::to_string(p.total.count()) + " makes more than " +
                     std::to_string(kMaxScrapeTicks) + " scrape ticks");
  p.scrape_ticks = scrape_ticks_for(p);
  p.plan_hash = compute_plan_hash(p);
  const std::string recorded = root.str("plan_hash");
  if (recorded != p.plan_hash)
    throw UsageError("plan JSON does not hash to its plan_hash (recorded " +
                     recorded.substr(0, 12) + ", rebuilt " + p.plan_hash.substr(0, 12) +
                     "): the file was edited or is damaged");
  return p;
}

std::string arrival_to_json(const Arrival& arrival) {
  JsonOut j(JsonOut::kCompact);
  write_arrival(j, arrival);
  return j.text();
}

}  // namespace faultline
