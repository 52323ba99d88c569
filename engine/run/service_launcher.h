// ServiceLauncher: brings up the environment a run needs and takes it down again.
// Services with a command are started on free loopback ports in dependency order, their
// stdout/stderr captured into the run's bundle, and waited on until ready; services given
// by URL are checked against the allowlist and used as they are. Everything started is
// stopped by PID, in reverse order, by stop_all() or the destructor, whatever happened.
//
// Thread-safety: owned and used by one thread (the runner's control thread); process
// actions may be called from it while the load runs elsewhere.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "faults/tcp_proxy.h"
#include "proc/child_process.h"
#include "spec/environment.h"

namespace faultline {

struct RunningService {
  std::string name;
  std::string url;  // base URL, e.g. "http://127.0.0.1:40123"; for tcp "tcp://host:port"
  std::string host;
  int port = 0;
  bool started_here = false;
  std::string log_path;  // where its stdout+stderr go (started services only)
  std::unique_ptr<ChildProcess> process;
  std::unique_ptr<TcpProxy> proxy;  // a proxy of the environment, run in this process
};

class ServiceLauncher {
 public:
  // `log_dir` must exist; logs are <log_dir>/<service>.log.
  ServiceLauncher(const Environment& env, std::string log_dir);
  ~ServiceLauncher();
  ServiceLauncher(const ServiceLauncher&) = delete;
  ServiceLauncher& operator=(const ServiceLauncher&) = delete;

  // Starts `wanted` (and what they depend on); empty = every service of the environment.
  // Throws EnvironmentError naming the service, the command and its log tail on failure.
  void start(const std::set<std::string>& wanted);

  // REQUIRES: start() brought up `name`. Throws EnvironmentError for unknown names.
  const RunningService& get(const std::string& name) const;
  const std::vector<std::unique_ptr<RunningService>>& services() const { return running_; }

  // Polled while waiting for a service to be ready: when it returns true, start() throws
  // Error(kInterrupted) (Ctrl-C during start-up). Empty: never.
  void set_interrupt(std::function<bool()> interrupted) { interrupted_ = std::move(interrupted); }

  // The run's seed, which decides which connections the proxies' toxics hit. Default 0.
  void set_proxy_seed(uint64_t seed) { proxy_seed_ = seed; }
  // The proxy of that name, or nullptr (not a proxy, or not started).
  TcpProxy* find_proxy(const std::string& name) const;

  // A started service that has exited since, in words ("service 'api' (pid 12) exited
  // (signal 9)"), or nullopt. Non-blocking.
  std::optional<std::string> find_exited();

  // Stops every started service, newest first. Returns one line per service stopped.
  std::vector<std::string> stop_all();

  // The service's command with placeholders resolved against ports known so far.
  // Exposed for tests and for `faultline plan` to show what would run.
  std::string resolve(const std::string& text, const ServiceSpec& self, int self_port) const;

 private:
  void start_one(const ServiceSpec& spec);
  void wait_ready(RunningService& service, const ServiceSpec& spec);

  Environment env_;
  std::string log_dir_;
  std::vector<std::unique_ptr<RunningService>> running_;
  std::function<bool()> interrupted_;
  uint64_t proxy_seed_ = 0;
};

// Dependencies of a service: depends_on plus every {<service>.*} placeholder it uses.
std::set<std::string> service_dependencies(const ServiceSpec& spec, const Environment& env);

}  // namespace faultline
