#include "run/service_launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

#include "common/error.h"
#include "net/allowlist.h"
#include "net/http_call.h"
#include "spec/service_placeholders.h"

namespace faultline {

namespace {

bool tcp_connects(const std::string& host, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return false;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Fills the service placeholders of `text` (spec/service_placeholders.h, the loader's own
// scanner, so run fills exactly what validate checked): `on` gets the text between the braces
// ("port", "redis.url") and returns its value. Other braces, as in `awk '{print $1}'` or a
// JSON argument, stay as written.
std::string substitute(const std::string& text,
                       const std::function<std::string(const std::string&)>& on) {
  std::string out;
  size_t at = 0;
  for (const auto& p : find_service_placeholders(text)) {
    out.append(text, at, p.offset - at);
    out += on(text.substr(p.offset + 1, p.length - 2));
    at = p.offset + p.length;
  }
  out.append(text, at, std::string::npos);
  return out;
}

std::string log_excerpt(const ChildProcess& p) {
  std::string tail = p.log_tail(1500);
  if (tail.empty()) return "(the service wrote nothing)";
  return "last output:\n" + tail;
}

}  // namespace

std::set<std::string> service_dependencies(const ServiceSpec& spec, const Environment& env) {
  std::set<std::string> deps(spec.depends_on.begin(), spec.depends_on.end());
  auto collect = [&](const std::string& text) {
    substitute(text, [&](const std::string& name) {
      const auto dot = name.find('.');
      if (dot != std::string::npos && env.find(name.substr(0, dot)))
        deps.insert(name.substr(0, dot));
      return std::string();
    });
  };
  for (const auto& arg : spec.command) collect(arg);
  for (const auto& [k, v] : spec.env) collect(v);
  deps.erase(spec.name);
  return deps;
}

ServiceLauncher::ServiceLauncher(const Environment& env, std::string log_dir)
    : env_(env), log_dir_(std::move(log_dir)) {}

ServiceLauncher::~ServiceLauncher() {
  stop_all();
}

std::string ServiceLauncher::resolve(const std::string& text, const ServiceSpec& self,
                                     int self_port) const {
  return substitute(text, [&](const std::string& name) -> std::string {
    if (name == "port") return std::to_string(self_port);
    if (name == "host") return "127.0.0.1";
    const auto dot = name.find('.');
    if (dot == std::string::npos)
      throw EnvironmentError(self.loc.str() + ": service '" + self.name +
                             "' uses unknown placeholder {" + name + "}");
    const std::string service = name.substr(0, dot);
    const std::string field = name.substr(dot + 1);
    for (const auto& r : running_) {
      if (r->name != service) continue;
      if (field == "port") return std::to_string(r->port);
      if (field == "host") return r->host;
      if (field == "url") return r->url;
      throw EnvironmentError(self.loc.str() + ": placeholder {" + name +
                             "}: a service has port, host and url");
    }
    throw EnvironmentError(self.loc.str() + ": service '" + self.name + "' refers to {" + name +
                           "} but '" + service + "' is not started before it");
  });
}

void ServiceLauncher::start(const std::set<std::string>& wanted) {
  // Depth-first over dependencies, in file order, so the start order is deterministic.
  std::vector<const ServiceSpec*> order;
  std::set<std::string> done, visiting;
  std::function<void(const ServiceSpec&)> visit = [&](const ServiceSpec& spec) {
    if (done.count(spec.name)) return;
    if (!visiting.insert(spec.name).second)
      throw EnvironmentError(env_.source_path + ": services depend on each other in a cycle at '" +
                             spec.name + "'");
    for (const auto& dep : service_dependencies(spec, env_)) {
      const ServiceSpec* d = env_.find(dep);
      if (!d)
        throw EnvironmentError(spec.loc.str() + ": service '" + spec.name +
                               "' depends on unknown service '" + dep + "'");
      visit(*d);
    }
    visiting.erase(spec.name);
    done.insert(spec.name);
    order.push_back(&spec);
  };
  for (const auto& spec : env_.services)
    if (wanted.empty() || wanted.count(spec.name)) visit(spec);
  for (const auto& name : wanted)
    if (!env_.find(name))
      throw EnvironmentError(env_.source_path + ": no service named '" + name + "'");
  for (const ServiceSpec* spec : order) {
    bool already = false;
    for (const auto& r : running_) already |= r->name == spec->name;
    if (!already) start_one(*spec);
  }
}

void ServiceLauncher::start_one(const ServiceSpec& spec) {
  auto service = std::make_unique<RunningService>();
  service->name = spec.name;
  if (!spec.url.empty()) {
    UrlParts parts;
    UrlProblem why;
    if (!parse_url(spec.url, &parts, &why))
      throw EnvironmentError(spec.loc.str() + ": service '" + spec.name + "' has URL '" + spec.url +
                             "': " + why.message);
    if (!host_allowed(parts.host, env_.allow))
      throw EnvironmentError(spec.loc.str() + ": service '" + spec.name + "' at " + spec.url +
                             " is outside the target allowlist of " + env_.source_path +
                             "; faultline only sends traffic to allowed hosts (default: "
                             "loopback). Add the host to `allow:` if this is intended.");
    service->url = spec.url;
    while (!service->url.empty() && service->url.back() == '/') service->url.pop_back();
    service->host = parts.host;
    service->port = parts.port ? parts.port : 80;
    wait_ready(*service, spec);
    running_.push_back(std::move(service));
    return;
  }

  if (!spec.proxy_of.empty()) {
    // In front of a service started (or checked) before it: start order follows depends_on.
    const RunningService& upstream = get(spec.proxy_of);
    TcpProxyOptions options;
    options.name = spec.name;
    options.upstream_host = upstream.host;
    options.upstream_port = upstream.port;
    options.seed = proxy_seed_;
    try {
      service->proxy = std::make_unique<TcpProxy>(options);
    } catch (const std::exception& e) {
      throw EnvironmentError(spec.loc.str() + ": proxy '" + spec.name + "' in front of '" +
                             spec.proxy_of + "' did not start: " + e.what());
    }
    service->host = "127.0.0.1";
    service->port = service->proxy->port();
    service->url = "tcp://127.0.0.1:" + std::to_string(service->port);
    running_.push_back(std::move(service));
    return;
  }

  service->started_here = true;
  service->host = "127.0.0.1";
  service->log_path = log_dir_ + "/" + spec.name + ".log";
  // The port is free when picked but may be taken before the service binds it: retry.
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    service->port = pick_free_port();
    service->url = (spec.protocol == "tcp" ? "tcp://" : "http://") + service->host + ":" +
                   std::to_string(service->port);
    ChildSpec child;
    for (const auto& arg : spec.command) child.argv.push_back(resolve(arg, spec, service->port));
    for (const auto& [k, v] : spec.env) child.env.emplace_back(k, resolve(v, spec, service->port));
    child.stdout_path = service->log_path;
    service->process = std::make_unique<ChildProcess>(ChildProcess::spawn(child));
    try {
      wait_ready(*service, spec);
      break;
    } catch (const EnvironmentError&) {
      const bool exited = !service->process->running();
      const std::string log = service->process->log_tail(4000);
      service->process->stop();
      const bool port_clash = log.find("ddress already in use") != std::string::npos;
      if (!(exited && port_clash) || attempt == kAttempts) throw;
    }
  }
  running_.push_back(std::move(service));
}

TcpProxy* ServiceLauncher::find_proxy(const std::string& name) const {
  for (const auto& s : running_)
    if (s->name == name) return s->proxy.get();
  return nullptr;
}

void ServiceLauncher::wait_ready(RunningService& service, const ServiceSpec& spec) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + spec.ready_timeout;
  std::string last_problem = "no answer yet";
  while (true) {
    if (service.process && !service.process->running()) {
      const int st = service.process->exit_status().value_or(-1);
      throw EnvironmentError("service '" + spec.name + "' exited during startup (" +
                             (WIFEXITED(st) ? "exit code " + std::to_string(WEXITSTATUS(st))
                                            : "signal " + std::to_string(WTERMSIG(st))) +
                             "); command: " + service.process->spec().argv[0] + "; " +
                             log_excerpt(*service.process));
    }
    if (spec.protocol == "tcp") {
      if (tcp_connects(service.host, service.port)) return;
      last_problem =
          "TCP connect to " + service.host + ":" + std::to_string(service.port) + " refused";
    } else {
      HttpRequest req;
      req.url = service.url + spec.ready_path;
      req.timeout = std::chrono::milliseconds(1000);
      const HttpResponse resp = http_call(req);
      if (resp.status == 200) return;
      last_problem = resp.error.empty()
                         ? "GET " + req.url + " answered " + std::to_string(resp.status)
                         : "GET " + req.url + ": " + resp.error;
    }
    if (interrupted_ && interrupted_())
      throw Error(ExitCode::kInterrupted,
                  "interrupted while waiting for service '" + spec.name + "' to be ready");
    if (clock::now() >= deadline) {
      std::string msg = "service '" + spec.name + "' was not ready within " +
                        format_duration(spec.ready_timeout) + " (" + last_problem + ")";
      if (service.process)
        msg += "; " + log_excerpt(*service.process);
      else
        msg += "; is it running at " + service.url + "?";
      throw EnvironmentError(msg);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

const RunningService& ServiceLauncher::get(const std::string& name) const {
  for (const auto& r : running_)
    if (r->name == name) return *r;
  throw EnvironmentError("service '" + name + "' is not part of this run's environment");
}

std::optional<std::string> ServiceLauncher::find_exited() {
  for (const auto& r : running_) {
    if (!r->process || r->process->running()) continue;
    const int st = r->process->exit_status().value_or(-1);
    return "service '" + r->name + "' (pid " + std::to_string(r->process->pid()) + ") exited (" +
           (WIFEXITED(st) ? "exit code " + std::to_string(WEXITSTATUS(st))
                          : "signal " + std::to_string(WTERMSIG(st))) +
           ")";
  }
  return std::nullopt;
}

std::vector<std::string> ServiceLauncher::stop_all() {
  std::vector<std::string> lines;
  while (!running_.empty()) {
    auto& r = running_.back();
    if (r->process) {
      const pid_t pid = r->process->pid();
      const int st = r->process->stop();
      lines.push_back("stopped " + r->name + " (pid " + std::to_string(pid) + ", " +
                      (WIFEXITED(st) ? "exit " + std::to_string(WEXITSTATUS(st))
                                     : "signal " + std::to_string(WTERMSIG(st))) +
                      ")");
    }
    running_.pop_back();
  }
  return lines;
}

}  // namespace faultline
