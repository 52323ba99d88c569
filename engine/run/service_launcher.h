// ServiceLauncher: brings up the environment a run needs and takes it down again.
// Services with a command are started on free loopback ports in dependency order, their
// stdout/stderr captured into the run's bundle, and waited on until ready; services given
// by URL are checked against the allowlist and used as they are. Everything started is
// stopped by PID, in reverse order, by stop_all() or the destructor, whatever happened.
//
// A service with `instances: N` (or a balancer) runs as N processes named "<service>#0".., each
// on its own port with its own log (<service>.<K>.log), started one after the other and each
// waited ready; with `balancer: nginx` an nginx (run/nginx_balancer.h) is then started in front
// of them under the service's own name, so get(service) is the balancer and traffic, knobs and
// {service.url} go through it. A service without either runs as one process under its name.
//
// It is also the ProcessControl of process faults (faults/process_driver.h): an instance can be
// signalled, taken down on purpose (then find_exited() does not report it) and started again
// exactly as before, on the same port, with its log appended to.
//
// Thread-safety: owned by one thread (the runner's control thread), which calls start(),
// find_exited(), stop_all() and the rest; the ProcessControl methods may run on other threads
// meanwhile (one at a time per instance), and a mutex keeps the two apart. Restarted
// processes are spawned on a thread the launcher keeps for that (see spawn_later()).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "faults/process_driver.h"
#include "faults/tcp_proxy.h"
#include "proc/child_process.h"
#include "spec/environment.h"

namespace faultline {

struct RunningService {
  std::string name;       // "api"; an instance of an instanced service: "api#1"
  std::string service;    // the environment's service it belongs to ("api")
  bool balancer = false;  // the nginx in front of the service's instances
  std::string url;        // base URL, e.g. "http://127.0.0.1:40123"; for tcp "tcp://host:port"
  std::string host;
  int port = 0;
  bool started_here = false;
  std::string log_path;                   // where its stdout+stderr go (started services only)
  std::unique_ptr<ChildProcess> process;  // replaced when a process fault starts it again
  std::unique_ptr<TcpProxy> proxy;        // a proxy of the environment, run in this process
  // Process faults (guarded by the launcher's mutex): a ProcessControl call is acting on the
  // process (no one else touches it meanwhile); it was taken down on purpose.
  bool busy = false;
  bool down_on_purpose = false;
};

// A started service as the run's report lists it; kept after stop_all().
struct StartedService {
  std::string name;  // "api", "api#1"; the balancer has the service's name
  std::string url;
  std::string log_path;  // empty for services given by URL and proxies
  int pid = 0;           // the newest process (a restarted instance's new one); 0 if none
  bool started_here = false;
  bool balancer = false;
};

class ServiceLauncher : public ProcessControl {
 public:
  // `log_dir` must exist; logs are <log_dir>/<service>.log.
  ServiceLauncher(const Environment& env, std::string log_dir);
  ~ServiceLauncher() override;
  ServiceLauncher(const ServiceLauncher&) = delete;
  ServiceLauncher& operator=(const ServiceLauncher&) = delete;

  // Starts `wanted` (and what they depend on); empty = every service of the environment.
  // Throws EnvironmentError naming the service, the command and its log tail on failure.
  void start(const std::set<std::string>& wanted);

  // REQUIRES: start() brought up `name`. Throws EnvironmentError for unknown names.
  const RunningService& get(const std::string& name) const;
  const std::vector<std::unique_ptr<RunningService>>& services() const { return running_; }
  // Every service start() brought up, in start order, as they are now or were when stop_all()
  // stopped them (running_ is empty afterwards; the report is written after that).
  std::vector<StartedService> started() const;
  // What answers for `service` one process at a time, for scrapes: its instances, in order,
  // when it is instanced (not the balancer); else the service itself. Empty when not started.
  std::vector<const RunningService*> members(const std::string& service) const;

  // Polled while waiting for a service to be ready: when it returns true, start() throws
  // Error(kInterrupted) (Ctrl-C during start-up). Empty: never.
  void set_interrupt(std::function<bool()> interrupted) { interrupted_ = std::move(interrupted); }

  // The run's seed, which decides which connections the proxies' toxics hit. Default 0.
  void set_proxy_seed(uint64_t seed) { proxy_seed_ = seed; }
  // The proxy of that name, or nullptr (not a proxy, or not started).
  TcpProxy* find_proxy(const std::string& name) const;

  // A started service that has exited since, in words ("service 'api' (pid 12) exited
  // (signal 9)"), or nullopt. Non-blocking. An instance a process fault took down (or is
  // acting on) is not reported; one that dies by itself, paused or not, is.
  std::optional<std::string> find_exited();

  // Stops every started service, newest first, paused or down ones too; waits first for
  // process fault actions under way (each bounded). Returns one line per service.
  std::vector<std::string> stop_all();

  // ProcessControl. A service faultline started with a command has `instances` instances,
  // "<name>#0"..; one that is not instanced runs its instance #0 under its own name.
  std::vector<std::string> instances(const std::string& target, std::string* why) override;
  std::string signal_instance(const std::string& instance, int sig) override;
  std::string stop_instance(const std::string& instance, bool kill_at_once,
                            Duration grace) override;
  std::string start_instance(const std::string& instance) override;
  Status instance_status(const std::string& instance) override;

  // The service's command with placeholders resolved against ports known so far.
  // Exposed for tests and for `faultline plan` to show what would run.
  // {data_dir} resolves to `data_dir` (created); empty: not known here.
  std::string resolve(const std::string& text, const ServiceSpec& self, int self_port,
                      const std::string& data_dir = "") const;

 private:
  void start_one(const ServiceSpec& spec);
  // Starts `child_for(port)` on a free port picked for `service`, trying another port when the
  // one picked was taken meanwhile, and waits until it is ready; then adds it to running_.
  void start_process(std::unique_ptr<RunningService> service, const ServiceSpec& spec,
                     const std::function<ChildSpec(int port)>& child_for);
  void start_balancer(const ServiceSpec& spec);
  // The running service a placeholder's service part names ("redis", "api#1"), or null.
  // REQUIRES: mutex_ held, or only the owning thread changes running_.
  const RunningService* find_running(const std::string& name) const;
  // Waits until `service` (run by `process`, null for a service given by URL) is ready.
  void wait_ready(const RunningService& service, ChildProcess* process, const ServiceSpec& spec);
  // The started service an instance name ("api#0") stands for, or null with *why set.
  // REQUIRES: mutex_ held.
  RunningService* find_instance(const std::string& instance, std::string* why);
  // Spawns `spec` on spawner_, a thread that lives as long as the launcher: a child's
  // PR_SET_PDEATHSIG fires when the thread that forked it ends, so a restart must not spawn
  // from the short-lived thread that asked for it.
  ChildProcess spawn_later(const ChildSpec& spec);

  Environment env_;
  std::string log_dir_;
  std::vector<std::unique_ptr<RunningService>> running_;
  std::vector<StartedService> stopped_;  // started() as it was when stop_all() began
  std::function<bool()> interrupted_;
  uint64_t proxy_seed_ = 0;

  mutable std::mutex mutex_;      // running_ (its growth) and RunningService::busy/down
  std::condition_variable idle_;  // a service stopped being busy

  std::mutex spawn_mutex_;
  std::condition_variable spawn_cv_;
  std::deque<std::function<void()>> spawn_queue_;
  bool spawn_quit_ = false;
  std::thread spawner_;  // started on the first spawn_later()
};

// Dependencies of a service: depends_on plus every {<service>.*} placeholder it uses.
std::set<std::string> service_dependencies(const ServiceSpec& spec, const Environment& env);

}  // namespace faultline
