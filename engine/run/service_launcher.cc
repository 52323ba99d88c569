#include "run/service_launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <thread>

#include "common/error.h"
#include "net/allowlist.h"
#include "net/http_call.h"
#include "run/nginx_balancer.h"
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
      // "redis.port" or "api#1.port": the service part ends at '#' or '.'.
      const auto dot = name.find('.');
      if (dot == std::string::npos) return std::string();
      const std::string service = name.substr(0, std::min(dot, name.find('#')));
      if (env.find(service)) deps.insert(service);
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
  {
    std::lock_guard<std::mutex> lock(spawn_mutex_);
    spawn_quit_ = true;
  }
  spawn_cv_.notify_all();
  if (spawner_.joinable()) spawner_.join();
}

std::string ServiceLauncher::resolve(const std::string& text, const ServiceSpec& self,
                                     int self_port, const std::string& data_dir) const {
  return substitute(text, [&](const std::string& name) -> std::string {
    if (name == "port") return std::to_string(self_port);
    if (name == "data_dir" && !data_dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(data_dir, ec);
      if (ec)
        throw EnvironmentError(self.loc.str() + ": service '" + self.name + "': {data_dir} " +
                               data_dir + " cannot be created: " + ec.message());
      return std::filesystem::absolute(data_dir).lexically_normal().string();
    }
    if (name == "host") return "127.0.0.1";
    const auto dot = name.find('.');
    if (dot == std::string::npos)
      throw EnvironmentError(self.loc.str() + ": service '" + self.name +
                             "' uses unknown placeholder {" + name + "}");
    const std::string service = name.substr(0, dot);
    const std::string field = name.substr(dot + 1);
    if (const RunningService* r = find_running(service)) {
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
    for (const auto& r : running_) already |= r->service == spec->name;
    if (!already) start_one(*spec);
  }
}

const RunningService* ServiceLauncher::find_running(const std::string& name) const {
  for (const auto& r : running_)
    if (r->name == name) return r.get();
  // "{redis#0.port}": instance 0 of a service that runs as one process under its own name.
  const auto hash = name.find('#');
  if (hash != std::string::npos && name.substr(hash + 1) == "0")
    for (const auto& r : running_)
      if (r->name == name.substr(0, hash) && !r->balancer) return r.get();
  return nullptr;
}

std::vector<StartedService> ServiceLauncher::started() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (running_.empty()) return stopped_;
  std::vector<StartedService> out;
  for (const auto& r : running_)
    out.push_back({r->name, r->url, r->log_path, r->process ? r->process->pid() : 0,
                   r->started_here, r->balancer});
  return out;
}

std::vector<const RunningService*> ServiceLauncher::members(const std::string& service) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const ServiceSpec* spec = env_.find(service);
  std::vector<const RunningService*> out;
  for (const auto& r : running_) {
    if (r->service != service) continue;
    if (spec && spec->instanced() && r->name == service) continue;  // the balancer
    out.push_back(r.get());
  }
  return out;
}

void ServiceLauncher::start_one(const ServiceSpec& spec) {
  auto service = std::make_unique<RunningService>();
  service->name = spec.name;
  service->service = spec.name;
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
    wait_ready(*service, nullptr, spec);
    std::lock_guard<std::mutex> lock(mutex_);
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
    std::lock_guard<std::mutex> lock(mutex_);
    running_.push_back(std::move(service));
    return;
  }

  // {data_dir}: a directory of the instance's own in the bundle (data/<service>[.K]), kept
  // across restarts, so a service with state on disk (redis with appendonly) keeps it when a
  // process fault kills it, and the state stays with the run's evidence.
  auto child_for = [&](const std::string& data_name) {
    return [&, data_name](int port) {
      const std::string data_dir = log_dir_ + "/../data/" + data_name;
      ChildSpec child;
      for (const auto& arg : spec.command) child.argv.push_back(resolve(arg, spec, port, data_dir));
      for (const auto& [k, v] : spec.env)
        child.env.emplace_back(k, resolve(v, spec, port, data_dir));
      return child;
    };
  };
  if (!spec.instanced()) {
    service->log_path = log_dir_ + "/" + spec.name + ".log";
    start_process(std::move(service), spec, child_for(spec.name));
    return;
  }
  // One after the other, each ready before the next: a service that migrates a database or
  // takes a lock at start-up behaves as when its replicas roll out.
  for (int k = 0; k < spec.instances; ++k) {
    auto instance = std::make_unique<RunningService>();
    instance->name = spec.name + "#" + std::to_string(k);
    instance->service = spec.name;
    // '.' is not part of service names, so api.1.log cannot be another service's log.
    instance->log_path = log_dir_ + "/" + spec.name + "." + std::to_string(k) + ".log";
    start_process(std::move(instance), spec, child_for(spec.name + "." + std::to_string(k)));
  }
  if (!spec.balancer.empty()) start_balancer(spec);
}

void ServiceLauncher::start_balancer(const ServiceSpec& spec) {
  const std::string nginx = find_nginx_binary();
  if (nginx.empty())
    throw EnvironmentError(spec.loc.str() + ": service '" + spec.name +
                           "' has balancer: nginx, but no nginx was found in PATH or "
                           "/usr/sbin/nginx; install Debian's nginx-light (scripts/install-deps)");
  NginxBalancerConfig config;
  config.service = spec.name;
  config.dir = std::filesystem::absolute(log_dir_ + "/" + spec.name + ".nginx").string();
  for (const RunningService* r : members(spec.name)) config.instance_ports.push_back(r->port);
  auto service = std::make_unique<RunningService>();
  service->name = spec.name;
  service->service = spec.name;
  service->balancer = true;
  service->log_path = config.dir + "/error.log";
  start_process(std::move(service), spec, [&](int port) {
    config.listen_port = port;
    return prepare_nginx_balancer(nginx, config);
  });
}

void ServiceLauncher::start_process(std::unique_ptr<RunningService> service,
                                    const ServiceSpec& spec,
                                    const std::function<ChildSpec(int port)>& child_for) {
  service->started_here = true;
  service->host = "127.0.0.1";
  // The port is free when picked but may be taken before the service binds it: retry.
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    service->port = pick_free_port();
    service->url = (spec.protocol == "tcp" ? "tcp://" : "http://") + service->host + ":" +
                   std::to_string(service->port);
    ChildSpec child = child_for(service->port);
    if (child.stdout_path.empty()) child.stdout_path = service->log_path;
    service->process = std::make_unique<ChildProcess>(ChildProcess::spawn(child));
    try {
      wait_ready(*service, service->process.get(), spec);
      break;
    } catch (const EnvironmentError&) {
      const bool exited = !service->process->running();
      const std::string log = service->process->log_tail(4000);
      service->process->stop();
      const bool port_clash = log.find("ddress already in use") != std::string::npos;
      if (!(exited && port_clash) || attempt == kAttempts) throw;
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  running_.push_back(std::move(service));
}

TcpProxy* ServiceLauncher::find_proxy(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& s : running_)
    if (s->name == name) return s->proxy.get();
  return nullptr;
}

void ServiceLauncher::wait_ready(const RunningService& service, ChildProcess* process,
                                 const ServiceSpec& spec) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + spec.ready_timeout;
  std::string last_problem = "no answer yet";
  while (true) {
    if (process && !process->running()) {
      const int st = process->exit_status().value_or(-1);
      throw EnvironmentError("service '" + spec.name + "' exited during startup (" +
                             (WIFEXITED(st) ? "exit code " + std::to_string(WEXITSTATUS(st))
                                            : "signal " + std::to_string(WTERMSIG(st))) +
                             "); command: " + process->spec().argv[0] + "; " +
                             log_excerpt(*process));
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
      if (process)
        msg += "; " + log_excerpt(*process);
      else
        msg += "; is it running at " + service.url + "?";
      throw EnvironmentError(msg);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

const RunningService& ServiceLauncher::get(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& r : running_)
    if (r->name == name) return *r;
  throw EnvironmentError("service '" + name + "' is not part of this run's environment");
}

std::optional<std::string> ServiceLauncher::find_exited() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& r : running_) {
    // A process fault owns the process while busy, and a down one was taken down on purpose.
    if (!r->process || r->busy || r->down_on_purpose || r->process->running()) continue;
    const int st = r->process->exit_status().value_or(-1);
    const std::string who = r->balancer ? "the nginx balancer of service '" + r->name + "'"
                                        : "service '" + r->name + "'";
    return who + " (pid " + std::to_string(r->process->pid()) + ") exited (" +
           (WIFEXITED(st) ? "exit code " + std::to_string(WEXITSTATUS(st))
                          : "signal " + std::to_string(WTERMSIG(st))) +
           ")";
  }
  return std::nullopt;
}

std::vector<std::string> ServiceLauncher::stop_all() {
  std::vector<std::string> lines;
  std::unique_lock<std::mutex> lock(mutex_);
  // Process fault actions are bounded (grace, readiness timeout): let them finish, so no
  // thread is left acting on a process this stops.
  idle_.wait(lock, [&] {
    for (const auto& r : running_)
      if (r->busy) return false;
    return true;
  });
  if (!running_.empty()) {
    lock.unlock();
    std::vector<StartedService> now = started();
    lock.lock();
    stopped_ = std::move(now);
  }
  while (!running_.empty()) {
    auto& r = running_.back();
    if (r->process) {
      const pid_t pid = r->process->pid();
      const bool was_down = r->down_on_purpose;
      // stop() sends SIGCONT first, so a paused group acts on SIGTERM; on a group a process
      // fault already stopped it only returns the status.
      const int st = r->process->stop();
      lines.push_back("stopped " + r->name + " (pid " + std::to_string(pid) + ", " +
                      (WIFEXITED(st) ? "exit " + std::to_string(WEXITSTATUS(st))
                                     : "signal " + std::to_string(WTERMSIG(st))) +
                      (was_down ? ", already down by a process fault" : "") + ")");
    }
    running_.pop_back();
  }
  return lines;
}

RunningService* ServiceLauncher::find_instance(const std::string& instance, std::string* why) {
  const auto hash = instance.find('#');
  const std::string name = instance.substr(0, hash);
  const ServiceSpec* spec = env_.find(name);
  for (const auto& r : running_) {
    if (r->service != name) continue;
    if (!r->started_here) {
      *why = "service '" + name + "' was not started by faultline (" +
             (r->proxy ? "it is a proxy" : "it is given by URL") +
             "): process faults need a service with a command";
      return nullptr;
    }
    if (spec && spec->instanced()) {
      if (r->name == instance && hash != std::string::npos) return r.get();
      continue;
    }
    if (hash != std::string::npos && instance.substr(hash + 1) != "0") {
      *why = "service '" + name + "' has one instance (" + name + "#0); there is no " + instance;
      return nullptr;
    }
    return r.get();
  }
  if (spec && spec->instanced() && hash != std::string::npos) {
    *why = "service '" + name + "' has " + std::to_string(spec->instances) + " instance" +
           (spec->instances == 1 ? "" : "s") + " (" + name + "#0.." + name + "#" +
           std::to_string(spec->instances - 1) + "); there is no " + instance +
           " started for this run";
    return nullptr;
  }
  *why = "no service '" + name + "' was started for this run";
  return nullptr;
}

std::vector<std::string> ServiceLauncher::instances(const std::string& target, std::string* why) {
  std::lock_guard<std::mutex> lock(mutex_);
  const ServiceSpec* spec = env_.find(target);
  if (spec && spec->instanced()) {
    // Every instance of the service, in order; never its balancer.
    std::vector<std::string> out;
    for (const auto& r : running_)
      if (r->service == target && !r->balancer) out.push_back(r->name);
    if (out.empty()) *why = "no instance of service '" + target + "' was started for this run";
    return out;
  }
  if (RunningService* r = find_instance(target, why)) {
    if (r->name.find('#') != std::string::npos) return {r->name};
    return {r->name + "#0"};
  }
  return {};
}

std::string ServiceLauncher::signal_instance(const std::string& instance, int sig) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string why;
  RunningService* r = find_instance(instance, &why);
  if (!r) return why;
  if (r->busy) return instance + " is being stopped or started";
  if (r->down_on_purpose) return instance + " is down (taken down by a process fault)";
  if (!r->process->running()) return instance + " has exited";
  if (!r->process->send_signal(sig))
    return "signal " + std::to_string(sig) + " to the process group of " + instance + ": " +
           std::strerror(errno);
  return "";
}

std::string ServiceLauncher::stop_instance(const std::string& instance, bool kill_at_once,
                                           Duration grace) {
  ChildProcess* process = nullptr;
  RunningService* r = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string why;
    r = find_instance(instance, &why);
    if (!r) return why;
    if (r->busy) return instance + " is being stopped or started";
    if (r->down_on_purpose) return "";
    // One that died by itself stays an unexpected death: find_exited() reports it.
    if (!r->process->running()) return instance + " has exited by itself";
    r->busy = true;
    r->down_on_purpose = true;
    process = r->process.get();
  }
  if (kill_at_once) process->send_signal(SIGKILL);
  process->stop(kill_at_once ? std::chrono::milliseconds(0)
                             : std::chrono::duration_cast<std::chrono::milliseconds>(grace));
  const bool gone = process->group_gone();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    r->busy = false;
  }
  idle_.notify_all();
  if (!gone)
    return "a member of the process group of " + instance + " outlived SIGKILL for " +
           format_duration(ChildProcess::kGoneTimeout);
  return "";
}

std::string ServiceLauncher::start_instance(const std::string& instance) {
  RunningService* r = nullptr;
  ChildSpec child;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string why;
    r = find_instance(instance, &why);
    if (!r) return why;
    if (r->busy) return instance + " is being stopped or started";
    if (!r->down_on_purpose) return r->process->running() ? "" : instance + " has exited by itself";
    r->busy = true;
    child = r->process->spec();  // as first started: same port, command, env and log file
  }
  std::string error;
  std::unique_ptr<ChildProcess> fresh;
  try {
    fresh = std::make_unique<ChildProcess>(spawn_later(child));
    wait_ready(*r, fresh.get(), *env_.find(r->service));
  } catch (const std::exception& e) {
    error = e.what();
    if (fresh) fresh->stop();
    fresh.reset();
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (fresh) {
      r->process = std::move(fresh);
      r->down_on_purpose = false;
    }
    r->busy = false;
  }
  idle_.notify_all();
  return error;
}

ProcessControl::Status ServiceLauncher::instance_status(const std::string& instance) {
  pid_t pgid = -1;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string why;
    RunningService* r = find_instance(instance, &why);
    if (!r || r->down_on_purpose || !r->process || !r->process->running()) return Status::kDown;
    pgid = r->process->pid();
  }
  const GroupMembers members = count_group_members(pgid);
  if (members.live == 0) return Status::kDown;
  if (members.stopped == 0) return Status::kRunning;
  return members.stopped == members.live ? Status::kPaused : Status::kPartlyPaused;
}

ChildProcess ServiceLauncher::spawn_later(const ChildSpec& spec) {
  auto task = std::make_shared<std::packaged_task<ChildProcess()>>(
      [spec] { return ChildProcess::spawn(spec); });
  std::future<ChildProcess> result = task->get_future();
  {
    std::lock_guard<std::mutex> lock(spawn_mutex_);
    if (!spawner_.joinable()) {
      spawner_ = std::thread([this] {
        std::unique_lock<std::mutex> queue_lock(spawn_mutex_);
        while (true) {
          spawn_cv_.wait(queue_lock, [&] { return spawn_quit_ || !spawn_queue_.empty(); });
          if (spawn_queue_.empty()) return;  // quit, nothing left to spawn
          auto job = std::move(spawn_queue_.front());
          spawn_queue_.pop_front();
          queue_lock.unlock();
          job();
          queue_lock.lock();
        }
      });
    }
    spawn_queue_.push_back([task] { (*task)(); });
  }
  spawn_cv_.notify_all();
  return result.get();
}

}  // namespace faultline
