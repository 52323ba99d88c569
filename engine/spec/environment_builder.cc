#include "spec/environment_builder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "common/text.h"
#include "net/allowlist.h"
#include "spec/json_fields.h"
#include "spec/service_placeholders.h"

namespace faultline {

namespace {

using rapidjson::Value;

std::string member_name(const Value::ConstMemberIterator& m) {
  return std::string(m->name.GetString(), m->name.GetStringLength());
}

class Builder {
 public:
  explicit Builder(DiagnosticSink& sink) : sink_(sink) {}
  Environment build(const Value& doc, const std::string& source_path);

 private:
  ServiceSpec service(const std::string& name, const Value& v, const std::string& pointer);
  // Checks placeholders of one text value; records the services it names.
  void placeholders(std::string_view text, const std::string& pointer, size_t base,
                    const ServiceSpec& self, std::vector<std::string>& named);
  void check_references(Environment& env);
  // Placeholders that name another service's address: checked once every service is known,
  // since that one may come later in the file and its instances decide what is valid.
  void check_instance_references(const Environment& env);
  // A path faultline appends to the service's URL (readiness): as url_path_problem says.
  void check_url_path(std::string_view path, const std::string& pointer);
  // `observe:` - where server metrics come from (ObserveSource).
  void observe_source(const Value& v, Environment& env);

  DiagnosticSink& sink_;
  std::vector<std::string> service_names_;
  // service -> (service it depends on, pointer of the depends_on entry or placeholder)
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> uses_;
  std::map<std::string, std::string> pointers_;  // service -> pointer
  struct AddressUse {
    std::string service;  // the service named
    int instance;         // K of {service#K.attr}, or -1
    std::string text;     // the placeholder as written, without braces
    SourceLoc at;
    std::string pointer;
    int length;
  };
  std::vector<AddressUse> address_uses_;
};

Environment Builder::build(const Value& doc, const std::string& source_path) {
  Environment env;
  env.source_path = source_path;
  env.name = std::filesystem::path(source_path).stem().string();
  if (!doc.IsObject()) return env;
  if (auto n = string_value(field(doc, "name"))) env.name = *n;
  if (const Value* allow = field(doc, "allow"); allow && allow->IsArray()) {
    env.allow.clear();
    for (rapidjson::SizeType i = 0; i < allow->Size(); ++i) {
      const auto entry = string_value(&(*allow)[i]);
      if (!entry) continue;
      const std::string ap = pointer_append("/allow", i);
      if (!is_allow_entry(*entry)) {
        sink_.error(ap, "\"" + *entry + "\" is not an address, a CIDR block or a host name",
                    "e.g. 127.0.0.0/8, ::1, localhost, 10.1.2.3");
        continue;
      }
      env.allow.push_back(*entry);
    }
  }
  if (const Value* observe = field(doc, "observe"); observe && observe->IsObject())
    observe_source(*observe, env);
  const Value* services = field(doc, "services");
  if (services == nullptr || !services->IsObject()) return env;
  for (auto m = services->MemberBegin(); m != services->MemberEnd(); ++m) {
    service_names_.push_back(member_name(m));
  }
  const Value* proxies = field(doc, "proxies");
  if (proxies != nullptr && !proxies->IsObject()) proxies = nullptr;
  if (proxies != nullptr)
    for (auto m = proxies->MemberBegin(); m != proxies->MemberEnd(); ++m)
      service_names_.push_back(member_name(m));
  for (auto m = services->MemberBegin(); m != services->MemberEnd(); ++m) {
    const std::string name = member_name(m);
    const std::string sp = pointer_append("/services", name);
    pointers_[name] = sp;
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
        })) {
      sink_.error(sp, "service names are letters, digits, '_' and '-'",
                  "placeholders refer to services as {name.port}", DiagnosticSink::Anchor::kKey);
    }
    env.services.push_back(service(name, m->value, sp));
  }
  // A proxy is a service faultline runs itself: placeholders ({redis_proxy.port}), start
  // order and readiness treat it as one, so a command reaches the proxied service through it.
  for (auto m = proxies ? proxies->MemberBegin() : services->MemberEnd();
       proxies && m != proxies->MemberEnd(); ++m) {
    const std::string name = member_name(m);
    const std::string pp = pointer_append("/proxies", name);
    pointers_[name] = pp;
    ServiceSpec s;
    s.name = name;
    const SourceEntry* e = sink_.map().find(pp);
    s.loc = e ? e->key : SourceLoc{};
    s.protocol = "tcp";
    if (std::find_if(env.services.begin(), env.services.end(),
                     [&](const ServiceSpec& x) { return x.name == name; }) != env.services.end()) {
      sink_.error(pp, "\"" + name + "\" is both a service and a proxy",
                  "give the proxy its own name, e.g. " + name + "_proxy",
                  DiagnosticSink::Anchor::kKey);
      continue;
    }
    if (auto to = string_value(field(m->value, "to"))) {
      const std::string tp = pp + "/to";
      auto target = std::find_if(env.services.begin(), env.services.end(),
                                 [&](const ServiceSpec& x) { return x.name == *to; });
      if (target == env.services.end()) {
        std::vector<std::string> names;
        for (const auto& x : env.services) names.push_back(x.name);
        report_unknown_name(sink_, tp, "service", *to, names, "services");
      } else if (!target->has_single_address()) {
        sink_.error(tp,
                    "service \"" + *to + "\" runs " + std::to_string(target->instances) +
                        " instances without a balancer: the proxy has no single address to "
                        "forward to",
                    "add balancer: nginx to " + *to);
      } else {
        s.proxy_of = *to;
        s.depends_on.push_back(*to);
        uses_[name].emplace_back(*to, tp);
      }
    }
    env.services.push_back(std::move(s));
  }
  check_instance_references(env);
  for (const auto& svc : env.services) {
    if (svc.url.empty()) continue;
    const std::string up = pointers_[svc.name] + "/url";
    UrlParts url;
    UrlProblem problem;
    // The launcher refuses the same URLs through the same parse_url (net/allowlist.h).
    if (!parse_url(svc.url, &url, &problem)) {
      if (!sink_.has_error_at(up)) {
        sink_.error_at(sink_.map().locate_in_value(up, problem.offset), up, problem.message,
                       "a service URL is scheme://host[:port][/base-path], e.g. "
                       "http://127.0.0.1:8080; faultline appends every path to it",
                       static_cast<int>(problem.length));
      }
      continue;
    }
    if (!host_allowed(url.host, env.allow)) {
      std::string allowed;
      for (const auto& a : env.allow) allowed += (allowed.empty() ? "" : ", ") + a;
      sink_.error(up,
                  "host " + url.host + " is not in the environment's allow list (" + allowed + ")",
                  "faultline only sends traffic to allowed hosts; add it to allow: if this is "
                  "intended");
    }
  }
  check_references(env);
  if (!env.observe.service.empty() && env.find(env.observe.service) == nullptr) {
    std::vector<std::string> names;
    for (const auto& s : env.services) names.push_back(s.name);
    report_unknown_name(sink_, "/observe/service", "service", env.observe.service, names,
                        "services");
  }
  return env;
}

void Builder::observe_source(const Value& v, Environment& env) {
  ObserveSource& o = env.observe;
  const SourceEntry* e = sink_.map().find("/observe");
  o.loc = e ? e->key : SourceLoc{};
  if (auto source = string_value(field(v, "source"))) o.source = *source;
  if (auto match = string_value(field(v, "match"))) {
    o.match = *match;
    if (trim(o.match).empty())
      sink_.error("/observe/match", "match selects nothing",
                  "label matchers without braces, e.g. job=\"{service}\"");
    else if (o.match.front() == '{' || o.match.back() == '}')
      sink_.error("/observe/match", "match is written without the surrounding braces",
                  "e.g. job=\"{service}\",namespace=\"shop\"");
  }
  if (auto d = read_duration(field(v, "wait"), "/observe/wait", sink_, true)) o.wait = *d;
  const auto url_text = string_value(field(v, "url"));
  if (url_text) o.url = *url_text;
  const auto service = string_value(field(v, "service"));
  if (service) o.service = *service;
  if (!o.prometheus()) {
    if (url_text || service)
      sink_.error(
          url_text ? "/observe/url" : "/observe/service",
          std::string(url_text ? "url" : "service") + " is only used with source: prometheus",
          "add source: prometheus, or drop it");
    return;
  }
  if (url_text && service) {
    sink_.error("/observe/service", "give either url or service, not both",
                "url: a Prometheus that runs already; service: one this environment starts");
    return;
  }
  if (service) return;  // checked against the services once they are all known
  if (!url_text) {
    sink_.error("/observe",
                "source: prometheus needs the url of the Prometheus server, or the service "
                "that is one",
                "e.g. url: http://127.0.0.1:9090, or service: prometheus",
                DiagnosticSink::Anchor::kKey);
    return;
  }
  UrlParts url;
  UrlProblem problem;
  if (!parse_url(o.url, &url, &problem)) {
    sink_.error_at(sink_.map().locate_in_value("/observe/url", problem.offset), "/observe/url",
                   problem.message, "e.g. http://127.0.0.1:9090", static_cast<int>(problem.length));
  } else if (!host_allowed(url.host, env.allow)) {
    sink_.error("/observe/url", "host " + url.host + " is not in the environment's allow list",
                "faultline only talks to allowed hosts (loopback by default)");
  }
}

ServiceSpec Builder::service(const std::string& name, const Value& v, const std::string& pointer) {
  ServiceSpec s;
  s.name = name;
  const SourceEntry* e = sink_.map().find(pointer);
  s.loc = e ? e->key : SourceLoc{};
  if (!v.IsObject()) return s;
  if (auto url = string_value(field(v, "url"))) s.url = *url;
  if (auto p = string_value(field(v, "protocol"))) s.protocol = *p;
  if (const Value* f = field(v, "faults"); f && f->IsBool()) s.faults = f->GetBool();
  if (auto t = string_value(field(v, "fault_token"))) s.fault_token = *t;
  // The schema bounds instances (1..kMaxInstances); what it cannot say is checked here.
  if (const Value* n = field(v, "instances");
      n && n->IsInt() && n->GetInt() >= 1 && n->GetInt() <= kMaxInstances) {
    s.instances = n->GetInt();
  }
  if (auto b = string_value(field(v, "balancer")); b && *b == "nginx") s.balancer = *b;
  if (s.instanced() && field(v, "command") == nullptr) {
    const std::string key = field(v, "instances") ? "/instances" : "/balancer";
    sink_.error(pointer + key, "instances and a balancer are for services faultline starts",
                "give the service a command, or drop " + key.substr(1),
                DiagnosticSink::Anchor::kKey);
  }
  if (!s.balancer.empty() && s.protocol != "http") {
    sink_.error(pointer + "/balancer",
                "the nginx balancer forwards HTTP; service \"" + name + "\" speaks " + s.protocol,
                "drop balancer:, or make the service protocol: http", DiagnosticSink::Anchor::kKey);
  }
  if (const Value* ready = field(v, "ready"); ready && ready->IsObject()) {
    if (auto p = string_value(field(*ready, "path"))) {
      s.ready_path = *p;
      check_url_path(*p, pointer + "/ready/path");
    }
    if (auto d = read_duration(field(*ready, "timeout"), pointer + "/ready/timeout", sink_, true)) {
      s.ready_timeout = *d;
    }
  }
  std::vector<std::string> named;
  const std::string cp = pointer + "/command";
  if (const Value* command = field(v, "command")) {
    if (command->IsString()) {
      size_t bad = 0;
      const std::string line(command->GetString(), command->GetStringLength());
      if (!split_command_line(line, s.command, bad)) {
        sink_.error_at(sink_.map().locate_in_value(cp, bad), cp, "quote is not closed",
                       "close it, or write the command as a list of arguments", 1);
      } else if (s.command.empty()) {
        sink_.error(cp, "the command is empty", "e.g. [redis-server, --port, \"{port}\"]");
      }
      placeholders(line, cp, 0, s, named);
    } else if (command->IsArray()) {
      for (rapidjson::SizeType i = 0; i < command->Size(); ++i) {
        const Value& arg = (*command)[i];
        if (!arg.IsString() && !arg.IsNumber() && !arg.IsBool()) continue;
        const std::string ap = pointer_append(cp, i);
        s.command.push_back(scalar_text(arg, ap, sink_.map()));
        if (arg.IsString()) placeholders(s.command.back(), ap, 0, s, named);
      }
    }
  }
  if (const Value* env = field(v, "env"); env && env->IsObject()) {
    for (auto m = env->MemberBegin(); m != env->MemberEnd(); ++m) {
      if (!m->value.IsString() && !m->value.IsNumber() && !m->value.IsBool()) continue;
      const std::string ep = pointer_append(pointer + "/env", member_name(m));
      const std::string value = scalar_text(m->value, ep, sink_.map());
      if (m->value.IsString()) placeholders(value, ep, 0, s, named);
      s.env[member_name(m)] = value;
    }
  }
  if (const Value* deps = field(v, "depends_on"); deps && deps->IsArray()) {
    for (rapidjson::SizeType i = 0; i < deps->Size(); ++i) {
      const auto dep = string_value(&(*deps)[i]);
      if (!dep) continue;
      const std::string dp = pointer_append(pointer + "/depends_on", i);
      if (std::find(service_names_.begin(), service_names_.end(), *dep) == service_names_.end()) {
        report_unknown_name(sink_, dp, "service", *dep, service_names_, "services");
        continue;
      }
      uses_[name].emplace_back(*dep, dp);
      if (std::find(s.depends_on.begin(), s.depends_on.end(), *dep) == s.depends_on.end()) {
        s.depends_on.push_back(*dep);
      }
    }
  }
  for (const auto& dep : named) {
    if (dep != name &&
        std::find(s.depends_on.begin(), s.depends_on.end(), dep) == s.depends_on.end()) {
      s.depends_on.push_back(dep);
    }
  }
  return s;
}

void Builder::placeholders(std::string_view text, const std::string& pointer, size_t base,
                           const ServiceSpec& self, std::vector<std::string>& named) {
  static const std::vector<std::string> kAttributes{"port", "url", "host"};
  for (const auto& p : find_service_placeholders(text)) {
    const SourceLoc at = sink_.map().locate_in_value(pointer, base + p.offset);
    const int length = static_cast<int>(p.length);
    if (p.service.empty()) {
      if (p.attribute == "data_dir") {
        if (!self.url.empty())
          sink_.error_at(at, pointer, "{data_dir} is only known for services faultline starts",
                         "this service has a url", length);
      } else if (p.attribute != "port") {
        std::string hint = "this service's own port is {port}; another's is {<service>.port}";
        if (std::find(service_names_.begin(), service_names_.end(), p.attribute) !=
            service_names_.end()) {
          hint = "did you mean {" + p.attribute + ".port} or {" + p.attribute + ".url}?";
        }
        sink_.error_at(at, pointer, "unknown placeholder {" + p.attribute + "}", hint, length);
      } else if (!self.url.empty()) {
        sink_.error_at(at, pointer, "{port} is only known for services faultline starts",
                       "this service has a url", length);
      }
      continue;
    }
    if (std::find(service_names_.begin(), service_names_.end(), p.service) ==
        service_names_.end()) {
      std::string hint = "services: ";
      for (size_t i = 0; i < service_names_.size(); ++i) {
        hint += (i ? ", " : "") + service_names_[i];
      }
      if (auto m = closest_match(p.service, service_names_)) hint = "did you mean " + *m + "?";
      sink_.error_at(at, pointer, "placeholder names unknown service \"" + p.service + "\"", hint,
                     length);
      continue;
    }
    if (std::find(kAttributes.begin(), kAttributes.end(), p.attribute) == kAttributes.end()) {
      std::string hint = "a service has .port, .url and .host";
      if (auto m = closest_match(p.attribute, kAttributes)) {
        hint = "did you mean {" + p.service + "." + *m + "}?";
      }
      sink_.error_at(at, pointer, "unknown placeholder attribute ." + p.attribute, hint, length);
      continue;
    }
    if (p.service == self.name && p.instance >= 0) {
      sink_.error_at(at, pointer, "an instance cannot refer to an instance of its own service",
                     "each instance's own port is {port}", length);
      continue;
    }
    if (p.service != self.name) {
      uses_[self.name].emplace_back(p.service, pointer);
      named.push_back(p.service);
      address_uses_.push_back({p.service, p.instance,
                               std::string(text.substr(p.offset + 1, p.length - 2)), at, pointer,
                               length});
    }
  }
}

void Builder::check_instance_references(const Environment& env) {
  for (const auto& use : address_uses_) {
    const ServiceSpec* target = env.find(use.service);
    if (target == nullptr) continue;
    const std::string attribute = use.text.substr(use.text.find('.'));
    if (use.instance < 0 && !target->has_single_address()) {
      sink_.error_at(use.at, use.pointer,
                     "service \"" + target->name + "\" runs " + std::to_string(target->instances) +
                         " instances without a balancer, so it has no single {" + use.text + "}",
                     "add balancer: nginx or refer to one instance as {" + target->name + "#0" +
                         attribute + "}",
                     use.length);
    } else if (use.instance >= target->instances) {
      sink_.error_at(use.at, use.pointer,
                     "service \"" + target->name + "\" has " + std::to_string(target->instances) +
                         " instance" + (target->instances == 1 ? "" : "s") + " (" + target->name +
                         "#0" +
                         (target->instances > 1
                              ? ".." + target->name + "#" + std::to_string(target->instances - 1)
                              : "") +
                         "); there is no " + target->name + "#" + std::to_string(use.instance),
                     "instances count from 0", use.length);
    }
  }
}

void Builder::check_url_path(std::string_view path, const std::string& pointer) {
  if (sink_.has_error_at(pointer)) return;  // the schema said what is wrong with it
  if (const auto problem = url_path_problem(path)) {
    sink_.error_at(sink_.map().locate_in_value(pointer, problem->offset), pointer, problem->message,
                   "e.g. /readyz", static_cast<int>(problem->length));
  }
}

void Builder::check_references(Environment& env) {
  // Depth-first search for a dependency cycle; each cycle is reported once.
  std::map<std::string, int> state;  // 0 unvisited, 1 on the stack, 2 done
  std::vector<std::string> stack;
  std::set<std::string> reported;
  std::function<void(const std::string&)> visit = [&](const std::string& name) {
    state[name] = 1;
    stack.push_back(name);
    const ServiceSpec* s = env.find(name);
    for (const auto& dep : s ? s->depends_on : std::vector<std::string>{}) {
      if (state[dep] == 1) {
        const auto from = std::find(stack.begin(), stack.end(), dep);
        std::string chain;
        for (auto it = from; it != stack.end(); ++it) chain += *it + " -> ";
        chain += dep;
        if (reported.insert(dep).second) {
          std::string where = pointers_[name];
          for (const auto& [target, pointer] : uses_[name]) {
            if (target == dep) {
              where = pointer;
              break;
            }
          }
          sink_.error(where, "services depend on each other in a cycle: " + chain,
                      "one of them must start without the other; remove a depends_on entry or "
                      "placeholder");
        }
      } else if (state[dep] == 0) {
        visit(dep);
      }
    }
    stack.pop_back();
    state[name] = 2;
  };
  for (const auto& s : env.services) {
    if (state[s.name] == 0) visit(s.name);
  }
}

}  // namespace

bool split_command_line(std::string_view line, std::vector<std::string>& argv,
                        size_t& error_offset) {
  argv.clear();
  std::string current;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) argv.push_back(std::move(current));
      current.clear();
      in_word = false;
    } else if (c == '\'' || c == '"') {
      const size_t open = i;
      in_word = true;
      for (++i; i < line.size() && line[i] != c; ++i) {
        if (c == '"' && line[i] == '\\' && i + 1 < line.size() &&
            (line[i + 1] == '"' || line[i + 1] == '\\')) {
          ++i;
        }
        current.push_back(line[i]);
      }
      if (i >= line.size()) {
        error_offset = open;
        return false;
      }
    } else if (c == '\\' && i + 1 < line.size()) {
      current.push_back(line[++i]);
      in_word = true;
    } else {
      current.push_back(c);
      in_word = true;
    }
  }
  if (in_word) argv.push_back(std::move(current));
  return true;
}

Environment build_environment(const rapidjson::Value& doc, const std::string& source_path,
                              DiagnosticSink& sink) {
  return Builder(sink).build(doc, source_path);
}

}  // namespace faultline
