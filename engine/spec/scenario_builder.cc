#include "spec/scenario_builder.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>

#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/text.h"
#include "net/allowlist.h"
#include "spec/route_template.h"
#include "spec/service_placeholders.h"

namespace faultline {

namespace {

using rapidjson::Value;

bool is_identifier(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::string member_name(const Value::ConstMemberIterator& m) {
  return std::string(m->name.GetString(), m->name.GetStringLength());
}

class Builder {
 public:
  Builder(DiagnosticSink& sink, ScenarioReferences& refs) : sink_(sink), refs_(refs) {}

  Scenario build(const Value& doc);

 private:
  const SourceMap& map() const { return sink_.map(); }
  SourceLoc value_loc(const std::string& pointer) const {
    const SourceEntry* e = map().find_nearest(pointer);
    return e ? e->value : SourceLoc{};
  }
  SourceLoc key_loc(const std::string& pointer) const {
    const SourceEntry* e = map().find_nearest(pointer);
    if (e == nullptr) return {};
    return e->key.line > 0 ? e->key : e->value;
  }

  void traffic(const Value& t, const std::string& pointer, TrafficSpec& out);
  RouteSpec route(const Value& r, const std::string& pointer);
  void check_template(std::string_view text, const std::string& pointer, size_t base,
                      const RouteSpec& route, std::set<std::string>& used);
  // Choice values that would break the request path once substituted (url_path_problem).
  void check_path_values(const RouteSpec& route, const std::string& pointer, size_t base);
  void write_body(rapidjson::Writer<rapidjson::StringBuffer>& w, const Value& v,
                  const std::string& pointer, const RouteSpec& route, std::set<std::string>& used);
  std::vector<KnobSetting> knobs(const Value* fault_set, const std::string& pointer,
                                 const char* key = "knobs");
  // Every kind of fault in a fault set (a profile or an entry of a phase's faults).
  void fault_set(const Value& v, const std::string& pointer, FaultProfile& out);
  ProcessFault process_fault(const Value& v, const std::string& pointer);
  ProxyToxicSpec proxy_toxic(const Value& v, const std::string& pointer);
  ExecFault exec_fault(const Value& v, const std::string& pointer);
  FaultSchedule schedule(const Value& v, const std::string& pointer);
  PhaseSpec phase(const Value& p, const std::string& pointer);
  void observe(const Value& o, const std::string& pointer, ObserveSpec& out);
  void statements(const Value* list, const std::string& pointer, std::vector<AssertionSpec>& out,
                  std::vector<std::string>& pointers);
  void tolerance(const Value& t, const std::string& pointer, Tolerance& out);
  void hooks(const Value& h, const std::string& pointer, ScenarioHooks& out);
  HookSpec hook(const Value& v, const std::string& pointer, bool verify);
  // A JSON pointer ("/order_id") that RapidJSON can follow; reports it otherwise.
  bool check_json_pointer(const std::string& text, const std::string& pointer);
  // Service placeholders of a hook's argument or path: services to check, no {port}.
  void hook_placeholders(const std::string& text, const std::string& pointer);

  DiagnosticSink& sink_;
  ScenarioReferences& refs_;
  std::set<std::string> declared_;
  std::map<std::string, ExecFault> exec_defined_;  // exec hooks by name, first definition  // var
                                                   // names of the route being built, parsed or not
};

Scenario Builder::build(const Value& doc) {
  Scenario s;
  if (!doc.IsObject()) return s;
  if (const Value* v = field(doc, "version"); v && v->IsInt()) s.version = v->GetInt();
  if (auto v = string_value(field(doc, "name"))) s.name = *v;
  if (auto v = string_value(field(doc, "description"))) s.description = *v;
  if (const Value* v = field(doc, "seed"); v && v->IsUint64()) s.seed = v->GetUint64();
  if (auto v = string_value(field(doc, "target"))) {
    s.target = *v;
    refs_.target = {*v, "/target"};
  }
  refs_.max_in_flight_pointer = "/traffic";
  refs_.timeout_pointer = "/traffic";
  if (const Value* t = field(doc, "traffic"); t && t->IsObject())
    traffic(*t, "/traffic", s.traffic);

  if (const Value* profiles = field(doc, "fault_profiles"); profiles && profiles->IsObject()) {
    for (auto m = profiles->MemberBegin(); m != profiles->MemberEnd(); ++m) {
      FaultProfile p;
      p.name = member_name(m);
      const std::string pointer = pointer_append("/fault_profiles", p.name);
      p.loc = key_loc(pointer);
      fault_set(m->value, pointer, p);
      refs_.profile_definitions.push_back({p.name, pointer});
      s.fault_profiles.push_back(std::move(p));
    }
  }

  if (const Value* phases = field(doc, "phases"); phases && phases->IsArray()) {
    std::vector<NamedAt> names;
    for (rapidjson::SizeType i = 0; i < phases->Size(); ++i) {
      const std::string pointer = pointer_append("/phases", i);
      PhaseSpec p = phase((*phases)[i], pointer);
      if (!p.name.empty()) names.push_back({p.name, pointer_append(pointer, "name")});
      refs_.phase_pointers.push_back(pointer);
      s.phases.push_back(std::move(p));
    }
    report_duplicate_names(sink_, names, "phase");
  }

  if (const Value* o = field(doc, "observe"); o && o->IsObject())
    observe(*o, "/observe", s.observe);
  statements(field(doc, "assert"), "/assert", s.assertions, refs_.assertion_pointers);
  statements(field(doc, "abort_if"), "/abort_if", s.abort_if, refs_.abort_if_pointers);
  statements(field(doc, "compare"), "/compare", s.compare, refs_.compare_pointers);
  if (const Value* t = field(doc, "tolerance"); t && t->IsObject()) {
    tolerance(*t, "/tolerance", s.tolerance);
  }
  if (const Value* h = field(doc, "hooks"); h && h->IsObject()) hooks(*h, "/hooks", s.hooks);
  return s;
}

void Builder::traffic(const Value& t, const std::string& pointer, TrafficSpec& out) {
  if (auto r = read_rate(field(t, "rate"), pointer + "/rate", sink_)) out.rate_per_s = *r;
  if (auto a = string_value(field(t, "arrival"))) {
    out.arrival = *a == "poisson" ? ArrivalProcess::kPoisson : ArrivalProcess::kConstant;
  }
  if (field(t, "timeout") != nullptr) refs_.timeout_pointer = pointer + "/timeout";
  if (auto d = read_duration(field(t, "timeout"), pointer + "/timeout", sink_, true)) {
    out.timeout = *d;
  }
  if (const Value* m = field(t, "max_in_flight"); m && m->IsInt() && m->GetInt() >= 1) {
    out.max_in_flight = m->GetInt();
    refs_.max_in_flight_pointer = pointer + "/max_in_flight";
  }
  // "auto" (the default) or 1..64; the schema has refused anything else.
  if (const Value* n = field(t, "threads"); n && n->IsInt()) out.threads = n->GetInt();
  const Value* routes = field(t, "routes");
  if (routes == nullptr || !routes->IsArray()) return;
  std::vector<NamedAt> names;
  for (rapidjson::SizeType i = 0; i < routes->Size(); ++i) {
    const std::string rp = pointer_append(pointer + "/routes", i);
    RouteSpec r = route((*routes)[i], rp);
    if (!r.name.empty()) names.push_back({r.name, rp + "/name"});
    out.routes.push_back(std::move(r));
  }
  report_duplicate_names(sink_, names, "route");
}

RouteSpec Builder::route(const Value& r, const std::string& pointer) {
  RouteSpec out;
  declared_.clear();
  out.loc = value_loc(pointer);
  if (!r.IsObject()) return out;
  if (auto v = string_value(field(r, "name"))) out.name = *v;
  if (const Value* w = field(r, "weight"); w && w->IsNumber()) out.weight = w->GetDouble();
  if (auto v = string_value(field(r, "ack_id")); v && check_json_pointer(*v, pointer + "/ack_id"))
    out.ack_id = *v;

  if (const Value* vars = field(r, "vars"); vars && vars->IsObject()) {
    for (auto m = vars->MemberBegin(); m != vars->MemberEnd(); ++m) {
      VarSpec var;
      var.name = member_name(m);
      declared_.insert(var.name);  // even when broken: its uses are not unknown placeholders
      const std::string vp = pointer_append(pointer + "/vars", var.name);
      var.loc = value_loc(vp);
      if (!is_identifier(var.name)) {
        sink_.error(vp, "variable names are letters, digits and _ (not starting with a digit)",
                    "placeholders look like {user_id}", DiagnosticSink::Anchor::kKey);
        continue;
      }
      if (var.name == kSeqPlaceholder || var.name == kRequestIdPlaceholder) {
        sink_.error(vp, "{" + var.name + "} is built in; a variable cannot replace it",
                    "choose another name", DiagnosticSink::Anchor::kKey);
        continue;
      }
      const auto expr = string_value(&m->value);
      if (!expr) continue;
      TextProblem problem;
      if (!parse_var_expression(*expr, var, problem)) {
        if (!sink_.has_error_at(vp)) {
          sink_.error_at(map().locate_in_value(vp, problem.offset), vp, problem.message,
                         problem.hint, static_cast<int>(problem.length));
        }
        continue;
      }
      out.vars.push_back(std::move(var));
    }
  }

  std::set<std::string> used;
  if (auto request = string_value(field(r, "request"))) {
    const std::string rp = pointer + "/request";
    TextProblem problem;
    if (auto line = parse_request_line(*request, problem)) {
      out.method = line->method;
      out.path_template = line->path;
      check_template(out.path_template, rp, out.method.size() + 1, out, used);
      check_path_values(out, rp, out.method.size() + 1);
    } else if (!sink_.has_error_at(rp)) {
      sink_.error_at(map().locate_in_value(rp, problem.offset), rp, problem.message, problem.hint,
                     static_cast<int>(problem.length));
    }
  }
  if (const Value* headers = field(r, "headers"); headers && headers->IsObject()) {
    for (auto m = headers->MemberBegin(); m != headers->MemberEnd(); ++m) {
      const std::string name = member_name(m);
      const std::string hp = pointer_append(pointer + "/headers", name);
      if (name.empty() || name.find_first_of(" \t:") != std::string::npos) {
        sink_.error(hp, "\"" + name + "\" is not a header name",
                    "header names have no spaces or ':'", DiagnosticSink::Anchor::kKey);
        continue;
      }
      if (!m->value.IsString() && !m->value.IsNumber() && !m->value.IsBool()) continue;
      std::string value = scalar_text(m->value, hp, map());
      if (m->value.IsString()) check_template(value, hp, 0, out, used);
      out.header_templates.emplace_back(name, std::move(value));
    }
  }
  if (const Value* body = field(r, "body")) {
    const std::string bp = pointer + "/body";
    if (body->IsString()) {
      out.body_template.assign(body->GetString(), body->GetStringLength());
      check_template(out.body_template, bp, 0, out, used);
    } else if (body->IsObject() || body->IsArray()) {
      rapidjson::StringBuffer sb;
      rapidjson::Writer<rapidjson::StringBuffer> w(sb);
      write_body(w, *body, bp, out, used);
      out.body_template.assign(sb.GetString(), sb.GetSize());
    }
  }
  for (const auto& var : out.vars) {
    if (used.count(var.name) == 0 && !out.method.empty()) {
      sink_.warning(pointer_append(pointer + "/vars", var.name),
                    "variable \"" + var.name + "\" is not used in the path, headers or body",
                    "use it as {" + var.name + "} or remove it", DiagnosticSink::Anchor::kKey);
    }
  }
  return out;
}

void Builder::check_template(std::string_view text, const std::string& pointer, size_t base,
                             const RouteSpec& route, std::set<std::string>& used) {
  std::vector<std::string> known{std::string(kSeqPlaceholder), std::string(kRequestIdPlaceholder)};
  for (const auto& v : route.vars) known.push_back(v.name);
  for (const auto& p : find_placeholders(text)) {
    used.insert(p.name);
    if (std::find(known.begin(), known.end(), p.name) != known.end() ||
        declared_.count(p.name) > 0) {
      continue;
    }
    std::string hint;
    if (auto m = closest_match(p.name, known)) {
      hint = "did you mean {" + *m + "}?";
    } else {
      hint = "declare it under this route's vars:, or use {seq} or {request_id}";
    }
    sink_.error_at(map().locate_in_value(pointer, base + p.offset), pointer,
                   "unknown placeholder {" + p.name + "}", hint, static_cast<int>(p.length));
  }
}

void Builder::check_path_values(const RouteSpec& route, const std::string& pointer, size_t base) {
  for (const auto& p : find_placeholders(route.path_template)) {
    for (const auto& var : route.vars) {
      if (var.name != p.name || var.kind != VarSpec::Kind::kChoice) continue;
      for (const auto& c : var.choices) {
        const auto bad = std::find_if(c.begin(), c.end(), breaks_url_path);
        if (bad == c.end()) continue;
        sink_.error_at(map().locate_in_value(pointer, base + p.offset), pointer,
                       "choice value \"" + c + "\" of {" + p.name + "} cannot go in the path: " +
                           (*bad == '#' ? "'#' starts a fragment, which curl never sends"
                                        : "curl refuses a space or control character in a URL"),
                       "percent-encode it in the list of choices (%20 for a space, %23 for '#')",
                       static_cast<int>(p.length));
        break;
      }
    }
  }
}

void Builder::write_body(rapidjson::Writer<rapidjson::StringBuffer>& w, const Value& v,
                         const std::string& pointer, const RouteSpec& route,
                         std::set<std::string>& used) {
  if (v.IsObject()) {
    w.StartObject();
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
      w.Key(m->name.GetString(), m->name.GetStringLength());
      write_body(w, m->value, pointer_append(pointer, member_name(m)), route, used);
    }
    w.EndObject();
  } else if (v.IsArray()) {
    w.StartArray();
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      write_body(w, v[i], pointer_append(pointer, i), route, used);
    }
    w.EndArray();
  } else if (v.IsString()) {
    const std::string_view s(v.GetString(), v.GetStringLength());
    check_template(s, pointer, 0, route, used);
    // Values are inserted as they are: a choice value that JSON would need to escape cannot go
    // inside a JSON body.
    for (const auto& p : find_placeholders(s)) {
      for (const auto& var : route.vars) {
        if (var.name != p.name || var.kind != VarSpec::Kind::kChoice) continue;
        for (const auto& c : var.choices) {
          if (c.find_first_of("\"\\") == std::string::npos &&
              std::none_of(c.begin(), c.end(),
                           [](char ch) { return static_cast<unsigned char>(ch) < 0x20; })) {
            continue;
          }
          sink_.error_at(map().locate_in_value(pointer, p.offset), pointer,
                         "choice value \"" + c + "\" of {" + p.name +
                             "} would need escaping inside this JSON body",
                         "use values without quotes, backslashes or control characters, or a "
                         "text body",
                         static_cast<int>(p.length));
          break;
        }
      }
    }
    // A value that is exactly {var} of a numeric generator is written unquoted, so the
    // substituted request carries a JSON number: {"user_id":{user_id}}.
    const auto ph = find_placeholders(s);
    bool numeric = false;
    if (ph.size() == 1 && ph[0].offset == 0 && ph[0].length == s.size()) {
      numeric = ph[0].name == kSeqPlaceholder;
      for (const auto& var : route.vars) {
        if (var.name == ph[0].name) numeric = is_numeric_var(var.kind);
      }
    }
    if (numeric) {
      w.RawValue(s.data(), s.size(), rapidjson::kNumberType);
    } else {
      w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    }
  } else {
    v.Accept(w);
  }
}

// `key` is "knobs" (fault knobs) or "levers" (runtime levers): the same shape, a map of
// service -> {name: value}. Both need a service with faults: true (scenario_checks.cc).
std::vector<KnobSetting> Builder::knobs(const Value* fault_set, const std::string& pointer,
                                        const char* key) {
  std::vector<KnobSetting> out;
  if (fault_set == nullptr || !fault_set->IsObject()) return out;
  const Value* services = field(*fault_set, key);
  if (services == nullptr || !services->IsObject()) return out;
  const std::string kp = pointer + "/" + key;
  for (auto s = services->MemberBegin(); s != services->MemberEnd(); ++s) {
    const std::string service = member_name(s);
    const std::string sp = pointer_append(kp, service);
    refs_.knob_services.push_back({service, sp});
    if (!s->value.IsObject()) continue;
    for (auto k = s->value.MemberBegin(); k != s->value.MemberEnd(); ++k) {
      if (!k->value.IsNumber() && !k->value.IsBool() && !k->value.IsString()) continue;
      const std::string knob = member_name(k);
      out.push_back({service, knob, json_text(k->value), key_loc(pointer_append(sp, knob))});
    }
  }
  return out;
}

void Builder::fault_set(const Value& v, const std::string& pointer, FaultProfile& out) {
  if (!v.IsObject()) return;
  out.knobs = knobs(&v, pointer);
  out.levers = knobs(&v, pointer, "levers");
  auto each = [&](const char* name, auto&& read) {
    const Value* list = field(v, name);
    if (list == nullptr || !list->IsArray()) return;
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i)
      if ((*list)[i].IsObject()) read((*list)[i], pointer_append(pointer + "/" + name, i));
  };
  each("process",
       [&](const Value& e, const std::string& p) { out.process.push_back(process_fault(e, p)); });
  each("proxy",
       [&](const Value& e, const std::string& p) { out.proxy.push_back(proxy_toxic(e, p)); });
  each("exec", [&](const Value& e, const std::string& p) { out.exec.push_back(exec_fault(e, p)); });
}

ProcessFault Builder::process_fault(const Value& v, const std::string& pointer) {
  ProcessFault out;
  out.loc = value_loc(pointer);
  if (auto s = string_value(field(v, "service"))) {
    out.service = *s;
    refs_.process_services.push_back({*s, pointer_append(pointer, "service")});
  }
  if (auto a = string_value(field(v, "action"))) out.action = *a;
  if (auto d = read_duration(field(v, "grace"), pointer + "/grace", sink_, false)) out.grace = *d;
  if (auto d = read_duration(field(v, "restart_after"), pointer + "/restart_after", sink_, false))
    out.restart_after = *d;
  if (const Value* r = field(v, "restarts"); r && r->IsInt()) out.restarts = r->GetInt();
  if (field(v, "restarts") != nullptr && !out.restart_after)
    sink_.error(pointer + "/restarts", "restarts needs restart_after",
                "say how long after each kill the service starts again, e.g. restart_after: 2s",
                DiagnosticSink::Anchor::kKey);
  if (out.restart_after && (out.action == "pause" || out.action == "restart"))
    sink_.error(pointer + "/restart_after",
                "restart_after applies to kill and terminate, not to " + out.action,
                out.action == "pause" ? "a paused service resumes when the fault is lifted"
                                      : "restart starts the service again by itself",
                DiagnosticSink::Anchor::kKey);
  return out;
}

ProxyToxicSpec Builder::proxy_toxic(const Value& v, const std::string& pointer) {
  ProxyToxicSpec out;
  out.loc = value_loc(pointer);
  if (auto s = string_value(field(v, "proxy"))) {
    out.proxy = *s;
    refs_.proxy_uses.push_back({*s, pointer_append(pointer, "proxy")});
  }
  if (auto t = string_value(field(v, "toxic"))) out.type = *t;
  out.name = string_value(field(v, "name")).value_or(out.type);
  if (auto d = string_value(field(v, "direction"))) out.direction = *d;
  if (const Value* t = field(v, "toxicity"); t && t->IsNumber()) out.toxicity = t->GetDouble();
  // The attributes each type takes, as the proxy names them; durations in the spec.
  struct Attribute {
    const char* key;      // in the spec
    const char* name;     // in the toxic (faults/toxic.h)
    int64_t us_per_unit;  // durations: microseconds per unit of the attribute; 0: a count
  };
  static const std::map<std::string, std::vector<Attribute>> kAttributes = {
      {"latency", {{"latency", "latency_ms", 1000}, {"jitter", "jitter_ms", 1000}}},
      {"bandwidth", {{"rate_kb_per_s", "rate_kb_per_s", 0}}},
      {"timeout", {{"timeout", "timeout_ms", 1000}}},
      {"reset_peer", {{"timeout", "timeout_ms", 1000}}},
      {"slow_close", {{"delay", "delay_ms", 1000}}},
      {"slicer",
       {{"average_size", "average_size", 0},
        {"size_variation", "size_variation", 0},
        {"delay", "delay_us", 1}}},
      {"limit_data", {{"bytes", "bytes", 0}}},
      {"down", {}},
  };
  static const std::set<std::string> kCommon = {"proxy", "toxic", "name", "direction", "toxicity"};
  auto type = kAttributes.find(out.type);
  if (type == kAttributes.end()) return out;  // the schema reported the type
  for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
    const std::string key = member_name(m);
    if (kCommon.count(key)) continue;
    const std::string ap = pointer_append(pointer, key);
    auto a = std::find_if(type->second.begin(), type->second.end(),
                          [&](const Attribute& x) { return key == x.key; });
    if (a == type->second.end()) {
      std::string takes;
      for (const auto& x : type->second) takes += std::string(takes.empty() ? "" : ", ") + x.key;
      sink_.error(ap, "a " + out.type + " toxic has no attribute \"" + key + "\"",
                  takes.empty() ? "it takes none" : "it takes " + takes,
                  DiagnosticSink::Anchor::kKey);
      continue;
    }
    if (a->us_per_unit == 0) {
      if (m->value.IsInt64()) out.attributes[a->name] = m->value.GetInt64();
      continue;
    }
    auto d = read_duration(&m->value, ap, sink_, false);
    if (!d) continue;
    if (d->count() % a->us_per_unit != 0) {
      sink_.error(
          ap, key + " must be whole " + (a->us_per_unit == 1000 ? "milliseconds" : "microseconds"),
          "the proxy keeps it in those units");
      continue;
    }
    out.attributes[a->name] = d->count() / a->us_per_unit;
  }
  return out;
}

ExecFault Builder::exec_fault(const Value& v, const std::string& pointer) {
  ExecFault out;
  out.loc = value_loc(pointer);
  if (auto n = string_value(field(v, "name"))) {
    out.name = *n;
    refs_.exec_names.push_back({*n, pointer_append(pointer, "name")});
  }
  auto argv = [&](const char* key, std::vector<std::string>& to) {
    const Value* list = field(v, key);
    if (list == nullptr || !list->IsArray()) return;
    for (const auto& a : list->GetArray())
      if (a.IsString()) to.emplace_back(a.GetString(), a.GetStringLength());
  };
  argv("run", out.run);
  argv("undo", out.undo);
  if (const Value* s = field(v, "shell"); s && s->IsBool()) out.shell = s->GetBool();
  if (out.shell && (out.run.size() > 1 || out.undo.size() > 1))
    sink_.error(pointer + "/shell", "with shell: true, run and undo are one command line each",
                "write them as a list of one string: [\"systemctl stop x && sleep 1\"]",
                DiagnosticSink::Anchor::kKey);
  if (auto d = read_duration(field(v, "timeout"), pointer + "/timeout", sink_, true))
    out.timeout = *d;
  // The plan keys exec hooks by name (a later entry of the same name replaces an earlier one
  // while both are on), so one name must mean one command.
  if (!out.name.empty()) {
    auto [it, fresh] = exec_defined_.try_emplace(out.name, out);
    if (!fresh && (it->second.run != out.run || it->second.undo != out.undo ||
                   it->second.shell != out.shell || it->second.timeout != out.timeout))
      sink_.error(pointer + "/name",
                  "exec hook \"" + out.name + "\" is defined twice, differently (first at " +
                      it->second.loc.str() + ")",
                  "give each command its own name", DiagnosticSink::Anchor::kValue);
  }
  return out;
}

FaultSchedule Builder::schedule(const Value& v, const std::string& pointer) {
  FaultSchedule out;
  if (auto d = read_duration(field(v, "at"), pointer + "/at", sink_, false)) out.at = *d;
  out.hold = read_duration(field(v, "for"), pointer + "/for", sink_, true);
  out.every = read_duration(field(v, "every"), pointer + "/every", sink_, true);
  if (out.every && !out.hold)
    sink_.error(pointer + "/every", "every needs for: how long the faults stay on each time",
                "e.g. every: 20s, for: 5s (5 s on, 15 s off)", DiagnosticSink::Anchor::kKey);
  else if (out.every && *out.hold >= *out.every)
    sink_.error(pointer + "/for",
                "for (" + format_duration(*out.hold) + ") must be shorter than every (" +
                    format_duration(*out.every) + "), or the faults never go off",
                "drop every to keep them on", DiagnosticSink::Anchor::kKey);
  return out;
}

PhaseSpec Builder::phase(const Value& p, const std::string& pointer) {
  PhaseSpec out;
  out.loc = value_loc(pointer);
  std::string rate_pointer;
  if (!p.IsObject()) {
    refs_.phase_rate_pointers.push_back(rate_pointer);
    return out;
  }
  if (auto v = string_value(field(p, "name"))) out.name = *v;
  if (auto d = read_duration(field(p, "duration"), pointer + "/duration", sink_, true)) {
    out.duration = *d;
  }
  if (field(p, "rate") != nullptr) {
    rate_pointer = pointer + "/rate";
    out.rate_per_s = read_rate(field(p, "rate"), rate_pointer, sink_);
  }
  if (const Value* ramp = field(p, "ramp"); ramp && ramp->IsObject()) {
    const auto from = read_rate(field(*ramp, "from"), pointer + "/ramp/from", sink_);
    const auto to = read_rate(field(*ramp, "to"), pointer + "/ramp/to", sink_);
    if (from && to) {
      out.ramp = std::make_pair(*from, *to);
      rate_pointer = pointer + (*from > *to ? "/ramp/from" : "/ramp/to");
    }
  }
  refs_.phase_rate_pointers.push_back(rate_pointer);
  if (const Value* faults = field(p, "faults"); faults && faults->IsArray()) {
    for (rapidjson::SizeType i = 0; i < faults->Size(); ++i) {
      const std::string fp = pointer_append(pointer + "/faults", i);
      const Value& f = (*faults)[i];
      PhaseFault entry;
      entry.loc = value_loc(fp);
      if (f.IsString()) {
        entry.profile.assign(f.GetString(), f.GetStringLength());
        refs_.profile_uses.push_back({entry.profile, fp});
      } else if (f.IsObject()) {
        if (auto name = string_value(field(f, "profile"))) {
          entry.profile = *name;
          refs_.profile_uses.push_back({entry.profile, pointer_append(fp, "profile")});
        }
        fault_set(f, fp, entry.inline_set);
        if (!entry.profile.empty() && !entry.inline_set.empty())
          sink_.error(pointer_append(fp, "profile"),
                      "an entry names a profile or writes its faults in place, not both",
                      "move these faults into fault_profiles." + entry.profile +
                          " or into an entry of their own",
                      DiagnosticSink::Anchor::kKey);
        entry.schedule = schedule(f, fp);
      } else {
        continue;
      }
      const FaultSchedule& sc = entry.schedule;
      if (out.duration.count() > 0 && sc.at >= out.duration) {
        sink_.warning(pointer_append(fp, "at"),
                      "at " + format_duration(sc.at) + " is not inside the phase (" +
                          format_duration(out.duration) + "), so these faults never go on",
                      "give an at shorter than the phase's duration", DiagnosticSink::Anchor::kKey);
      } else if (sc.every && sc.hold && *sc.hold < *sc.every && out.duration.count() > 0 &&
                 (out.duration - sc.at) / *sc.every >= kMaxFaultActivations) {
        sink_.error(pointer_append(fp, "every"),
                    "every " + format_duration(*sc.every) + " turns the faults on more than " +
                        std::to_string(kMaxFaultActivations) + " times in this phase",
                    "give a longer every", DiagnosticSink::Anchor::kKey);
      }
      out.faults.push_back(std::move(entry));
    }
  }
  return out;
}

void Builder::observe(const Value& o, const std::string& pointer, ObserveSpec& out) {
  if (auto d = read_duration(field(o, "interval"), pointer + "/interval", sink_, true)) {
    out.interval = *d;
  }
  if (const Value* targets = field(o, "targets"); targets && targets->IsArray()) {
    out.targets_given = true;
    for (rapidjson::SizeType i = 0; i < targets->Size(); ++i) {
      const std::string tp = pointer_append(pointer + "/targets", i);
      const Value& t = (*targets)[i];
      ScrapeTarget target;
      if (t.IsString()) {
        target.service.assign(t.GetString(), t.GetStringLength());
        refs_.observe_services.push_back({target.service, tp});
      } else if (auto service = string_value(field(t, "service"))) {
        target.service = *service;
        if (auto path = string_value(field(t, "path"))) {
          target.path = *path;
          const std::string pp = tp + "/path";
          const auto problem = url_path_problem(*path);
          if (problem && !sink_.has_error_at(pp)) {
            sink_.error_at(map().locate_in_value(pp, problem->offset), pp, problem->message,
                           "e.g. /metrics", static_cast<int>(problem->length));
          }
        }
        refs_.observe_services.push_back({target.service, tp + "/service"});
      } else {
        continue;
      }
      out.targets.push_back(std::move(target));
    }
  }
  if (const Value* metrics = field(o, "metrics"); metrics && metrics->IsArray()) {
    for (const auto& m : metrics->GetArray()) {
      if (m.IsString()) out.metrics.emplace_back(m.GetString(), m.GetStringLength());
    }
  }
  if (const Value* guard = field(o, "guard"); guard && guard->IsObject()) {
    if (const Value* v = field(*guard, "min_requests"); v && v->IsInt64() && v->GetInt64() >= 0) {
      out.guard.min_requests = v->GetInt64();
    }
    if (const Value* v = field(*guard, "min_histogram_count");
        v && v->IsInt64() && v->GetInt64() >= 0) {
      out.guard.min_histogram_count = v->GetInt64();
    }
  }
}

void Builder::statements(const Value* list, const std::string& pointer,
                         std::vector<AssertionSpec>& out, std::vector<std::string>& pointers) {
  if (list == nullptr || !list->IsArray()) return;
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    const Value& v = (*list)[i];
    if (!v.IsString()) continue;
    const std::string sp = pointer_append(pointer, i);
    out.push_back({std::string(v.GetString(), v.GetStringLength()), map().locate_in_value(sp, 0)});
    pointers.push_back(sp);
  }
}

void Builder::tolerance(const Value& t, const std::string& pointer, Tolerance& out) {
  if (const Value* r = field(t, "relative")) {
    if (r->IsNumber()) {
      out.relative = r->GetDouble();
    } else if (r->IsString()) {
      // "25%"; anything else has been reported by the schema check.
      const std::string_view text(r->GetString(), r->GetStringLength());
      double percent = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), percent);
      if (ec == std::errc() && std::string_view(end, text.data() + text.size() - end) == "%") {
        out.relative = percent / 100.0;
      }
    }
  }
  if (const Value* a = field(t, "absolute"); a && a->IsNumber()) out.absolute = a->GetDouble();
  if (auto b = string_value(field(t, "baseline"))) {
    out.baseline_phase = *b;
    refs_.baseline = {*b, pointer + "/baseline"};
  }
}

bool Builder::check_json_pointer(const std::string& text, const std::string& pointer) {
  if (sink_.has_error_at(pointer)) return false;  // the schema said it does not start with '/'
  const rapidjson::Pointer p(text.c_str(), text.size());
  if (p.IsValid()) return true;
  sink_.error_at(map().locate_in_value(pointer, p.GetParseErrorOffset()), pointer,
                 "\"" + text + "\" is not a JSON pointer",
                 "write /name/0/id; escape '~' as ~0 and '/' inside a name as ~1", 1);
  return false;
}

void Builder::hook_placeholders(const std::string& text, const std::string& pointer) {
  for (const auto& p : find_service_placeholders(text)) {
    if (p.service.empty()) {
      sink_.error_at(map().locate_in_value(pointer, p.offset), pointer,
                     "a hook has no {" + p.attribute + "} of its own",
                     "name the service: {api.port}, {api.url} or {api.host}",
                     static_cast<int>(p.length));
      continue;
    }
    if (p.attribute != "port" && p.attribute != "url" && p.attribute != "host") {
      sink_.error_at(map().locate_in_value(pointer, p.offset), pointer,
                     "unknown placeholder {" + p.service + "." + p.attribute + "}",
                     "a service has port, url and host", static_cast<int>(p.length));
      continue;
    }
    refs_.hook_services.push_back({p.service, pointer});
  }
}

HookSpec Builder::hook(const Value& v, const std::string& pointer, bool verify) {
  HookSpec out;
  out.loc = value_loc(pointer);
  if (auto n = string_value(field(v, "name"))) out.name = *n;
  const Value* exec = field(v, "exec");
  const Value* http = field(v, "http");
  if ((exec == nullptr) == (http == nullptr))
    sink_.error(pointer, exec ? "a hook is exec or http, not both" : "a hook needs exec or http",
                "exec: [cmd, arg] runs a command; http: {service: api, path: /x} probes a service",
                DiagnosticSink::Anchor::kKey);
  if (exec && exec->IsArray()) {
    for (rapidjson::SizeType i = 0; i < exec->Size(); ++i) {
      const Value& a = (*exec)[i];
      if (!a.IsString()) continue;
      out.exec.emplace_back(a.GetString(), a.GetStringLength());
      hook_placeholders(out.exec.back(), pointer_append(pointer + "/exec", i));
    }
  }
  if (http && http->IsObject()) {
    if (auto s = string_value(field(*http, "service"))) {
      out.http_service = *s;
      refs_.hook_http_services.push_back({*s, pointer + "/http/service"});
    }
    if (auto p = string_value(field(*http, "path"))) {
      out.http_path = *p;
      const std::string pp = pointer + "/http/path";
      if (const auto problem = url_path_problem(*p); problem && !sink_.has_error_at(pp))
        sink_.error_at(map().locate_in_value(pp, problem->offset), pp, problem->message,
                       "e.g. /admin/effects", static_cast<int>(problem->length));
      hook_placeholders(*p, pp);
    }
    if (auto m = string_value(field(*http, "method"))) out.http_method = *m;
  }
  if (auto d = read_duration(field(v, "wait"), pointer + "/wait", sink_, false)) out.wait = *d;
  if (auto d = read_duration(field(v, "timeout"), pointer + "/timeout", sink_, true))
    out.timeout = *d;
  out.retry_until_ok =
      read_duration(field(v, "retry_until_ok"), pointer + "/retry_until_ok", sink_, true);
  if (auto a = string_value(field(v, "applied_ids"))) {
    if (!verify)
      sink_.error(pointer + "/applied_ids", "applied_ids belongs to a verify hook",
                  "setup hooks run before traffic: nothing has been applied yet",
                  DiagnosticSink::Anchor::kKey);
    else if (check_json_pointer(*a, pointer + "/applied_ids"))
      out.applied_ids = *a;
  }
  return out;
}

void Builder::hooks(const Value& h, const std::string& pointer, ScenarioHooks& out) {
  std::vector<NamedAt> names;
  std::string history_pointer;  // the first verify hook with applied_ids
  for (const bool verify : {false, true}) {
    const char* key = verify ? "verify" : "setup";
    const Value* list = field(h, key);
    if (list == nullptr || !list->IsArray()) continue;
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
      if (!(*list)[i].IsObject()) continue;
      const std::string hp = pointer_append(pointer + "/" + key, i);
      HookSpec spec = hook((*list)[i], hp, verify);
      if (!spec.name.empty()) names.push_back({spec.name, hp + "/name"});
      if (!spec.applied_ids.empty()) {
        if (history_pointer.empty()) {
          history_pointer = hp;
        } else {
          sink_.error(hp + "/applied_ids",
                      "only one verify hook may give applied_ids (the first is at " +
                          value_loc(history_pointer).str() + ")",
                      "the id history compares one list of applied ids with the acknowledged "
                      "ones; merge the lists in one hook",
                      DiagnosticSink::Anchor::kKey);
        }
      }
      (verify ? out.verify : out.setup).push_back(std::move(spec));
    }
  }
  report_duplicate_names(sink_, names, "hook");
}

}  // namespace

Scenario build_scenario(const rapidjson::Value& doc, DiagnosticSink& sink,
                        ScenarioReferences& refs) {
  return Builder(sink, refs).build(doc);
}

}  // namespace faultline
