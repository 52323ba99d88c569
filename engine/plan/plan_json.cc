#include "plan/plan_json.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/sha256.h"

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

std::string arrival_to_json(const Arrival& arrival) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  write_arrival(w, arrival);
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace faultline
