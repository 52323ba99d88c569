#include "plan/plan_json.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <rapidjson/document.h>

#include "common/error.h"
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
template <typename Writer>
void write_plan_members(Writer& w, const Plan& p) {
  w.Key("algorithm");
  w.String(Plan::kAlgorithm);
  w.Key("scenario");
  w.String(p.scenario_name);
  w.Key("target");
  w.String(p.target);
  w.Key("seed");
  w.Uint64(p.seed);
  w.Key("base_rate");
  w.Double(p.base_rate);
  w.Key("total_us");
  w.Int64(p.total.count());

  w.Key("phases");
  w.StartArray();
  for (const auto& ph : p.phases) {
    w.StartObject();
    w.Key("name");
    w.String(ph.name);
    w.Key("start_us");
    w.Int64(ph.start.count());
    w.Key("end_us");
    w.Int64(ph.end.count());
    w.Key("rate_from");
    w.Double(ph.rate_from);
    w.Key("rate_to");
    w.Double(ph.rate_to);
    w.EndObject();
  }
  w.EndArray();

  w.Key("traffic");
  w.StartObject();
  w.Key("arrival");
  w.String(arrival_name(p.arrival));
  w.Key("timeout_us");
  w.Int64(p.request_timeout.count());
  w.Key("max_in_flight");
  w.Int(p.max_in_flight);
  w.Key("routes");
  w.StartArray();
  for (const auto& r : p.routes) {
    w.StartObject();
    w.Key("name");
    w.String(r.name);
    w.Key("weight");
    w.Double(r.weight);
    w.Key("method");
    w.String(r.method);
    w.Key("path");
    w.String(r.path_template);
    w.Key("headers");
    w.StartArray();
    for (const auto& [name, value] : r.header_templates) {
      w.StartArray();
      w.String(name);
      w.String(value);
      w.EndArray();
    }
    w.EndArray();
    w.Key("body");
    w.String(r.body_template);
    w.Key("vars");
    w.StartArray();
    for (const auto& v : r.vars) {
      w.StartObject();
      w.Key("name");
      w.String(v.name);
      w.Key("kind");
      w.String(var_kind_name(v.kind));
      switch (v.kind) {
        case VarSpec::Kind::kUniform:
          w.Key("lo");
          w.Int64(v.lo);
          w.Key("hi");
          w.Int64(v.hi);
          break;
        case VarSpec::Kind::kZipf:
          w.Key("n");
          w.Uint64(v.n);
          w.Key("s");
          w.Double(v.s);
          break;
        case VarSpec::Kind::kChoice:
          w.Key("choices");
          w.StartArray();
          for (const auto& c : v.choices) w.String(c);
          w.EndArray();
          break;
        case VarSpec::Kind::kSequence:
          w.Key("start");
          w.Int64(v.start);
          w.Key("step");
          w.Int64(v.step);
          break;
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();

  w.Key("faults");
  w.StartArray();
  for (const auto& f : p.fault_steps) {
    w.StartObject();
    w.Key("at_us");
    w.Int64(f.at.count());
    w.Key("phase");
    w.String(f.phase);
    w.Key("service");
    w.String(f.service);
    w.Key("knobs");
    w.RawValue(f.knobs_json.data(), f.knobs_json.size(), rapidjson::kObjectType);
    w.EndObject();
  }
  w.EndArray();

  w.Key("observe");
  w.StartObject();
  w.Key("interval_us");
  w.Int64(p.scrape_interval.count());
  w.Key("targets");
  w.StartArray();
  for (const auto& t : p.scrape_targets) {
    w.StartArray();
    w.String(t.service);
    w.String(t.path);
    w.EndArray();
  }
  w.EndArray();
  w.Key("metrics");
  w.StartArray();
  for (const auto& m : p.metrics_of_interest) w.String(m);
  w.EndArray();
  w.Key("min_requests");
  w.Int64(p.guard.min_requests);
  w.Key("min_histogram_count");
  w.Int64(p.guard.min_histogram_count);
  w.EndObject();

  w.Key("tolerance");
  w.StartObject();
  w.Key("relative");
  w.Double(p.tolerance.relative);
  w.Key("absolute");
  w.Double(p.tolerance.absolute);
  w.Key("baseline_phase");
  w.String(p.tolerance.baseline_phase);
  w.EndObject();

  auto statements = [&](const char* key, const std::vector<PlannedStatement>& list) {
    w.Key(key);
    w.StartArray();
    for (const auto& s : list) w.String(s.text);
    w.EndArray();
  };
  statements("assert", p.assertions);
  statements("abort_if", p.abort_if);
  statements("compare", p.compare_gates);
}

template <typename Writer>
void write_arrival(Writer& w, const Arrival& a) {
  w.StartObject();
  w.Key("seq");
  w.Uint64(a.seq);
  w.Key("intended_us");
  w.Int64(a.intended.count());
  w.Key("phase");
  w.Uint(a.phase);
  w.Key("route");
  w.Uint(a.route);
  w.Key("method");
  w.String(a.method);
  w.Key("path");
  w.String(a.path);
  w.Key("headers");
  w.StartArray();
  for (const auto& [name, value] : a.headers) {
    w.StartArray();
    w.String(name);
    w.String(value);
    w.EndArray();
  }
  w.EndArray();
  w.Key("body");
  w.String(a.body);
  w.Key("request_id");
  w.String(a.request_id);
  w.Key("traceparent");
  w.String(a.traceparent);
  w.EndObject();
}

template <typename Writer>
void write_full_plan(Writer& w, const Plan& plan, size_t first_arrivals) {
  w.StartObject();
  w.Key("plan_hash");
  w.String(plan.plan_hash);
  w.Key("description");
  w.String(plan.description);
  write_plan_members(w, plan);
  w.Key("expected_requests");
  w.StartObject();
  for (const auto& ph : plan.phases) {
    w.Key(ph.name.data(), static_cast<rapidjson::SizeType>(ph.name.size()));
    w.Double(ph.expected_requests());
  }
  w.EndObject();
  if (first_arrivals > 0) {
    w.Key("arrivals");
    w.StartArray();
    ArrivalStream stream(plan);
    for (size_t i = 0; i < first_arrivals; ++i) {
      auto a = stream.next();
      if (!a) break;
      write_arrival(w, *a);
    }
    w.EndArray();
  }
  w.EndObject();
}

}  // namespace

std::string canonical_plan_json(const Plan& plan) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  write_plan_members(w, plan);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string compute_plan_hash(const Plan& plan) {
  return sha256_hex(canonical_plan_json(plan));
}

std::string plan_to_json(const Plan& plan, size_t first_arrivals, bool pretty) {
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    write_full_plan(w, plan, first_arrivals);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    write_full_plan(w, plan, first_arrivals);
  }
  return {buf.GetString(), buf.GetSize()};
}

namespace {

// Typed access with a message that names the member, for plan_from_json.
class Reader {
 public:
  explicit Reader(const rapidjson::Value& v, std::string where) : v_(v), where_(std::move(where)) {
    if (!v_.IsObject()) fail("an object");
  }
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
    for (const auto& v : r.array("vars").GetArray())
      route.vars.push_back(read_var(Reader(v, "vars[]")));
    p.routes.push_back(std::move(route));
  }
  for (const auto& e : root.array("faults").GetArray()) {
    const Reader f(e, "faults[]");
    rapidjson::StringBuffer knobs;
    rapidjson::Writer<rapidjson::StringBuffer> kw(knobs);
    f.get("knobs").Accept(kw);
    p.fault_steps.push_back({Duration{f.i64("at_us")}, f.str("phase"), f.str("service"),
                             std::string(knobs.GetString(), knobs.GetSize())});
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
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  write_arrival(w, arrival);
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace faultline
