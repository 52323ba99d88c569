// The demo system under test, started for one test: redis + payment + api + worker, each a
// real process on a free loopback port, faults enabled, stopped by PID when the cluster goes.
// Other test directories (integration, run, observe) reuse it for end-to-end runs: link the
// CMake target faultline_test_cluster.
//
// Thread-safety: one owner thread (the HTTP helpers may be used from any thread).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "net/http_call.h"
#include "proc/child_process.h"
#include "redis_server.h"
#include "temp_dir.h"

namespace faultline::testing {

// Absolute path of the faultline-demo binary this build produced.
std::string demo_binary_path();

// One started faultline-demo process.
struct DemoService {
  std::string role;
  std::string url;  // "http://127.0.0.1:<port>", from the ready line
  std::optional<ChildProcess> process;
};

// Starts `faultline-demo --role <role> --port 0 <args...>` with `env` added, logging to
// `log_path`, and waits for its ready line. Throws EnvironmentError (with the log's tail) when
// it exits or stays silent past `timeout`.
DemoService start_demo_service(const std::string& role, const std::vector<std::string>& args,
                               const std::vector<std::pair<std::string, std::string>>& env,
                               const std::string& log_path,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10));

struct DemoClusterOptions {
  bool faults = true;       // --faults on every service
  std::string fault_token;  // --fault-token on every service ("" = none)
  bool production = false;  // APP_ENV=production for every service
  int payment_retries = 0;  // api --payment-retries
  std::string payment_timeout = "2s";
  bool payment_required = false;
  std::string api_db_latency = "1ms";
  std::string payment_db_latency = "1ms";
  int api_threads = 16;
  bool start_worker = true;
  int workers = 2;
  int max_retries = 3;
  std::string job_time = "1ms";
  std::string worker_id = "worker";
  std::string check_interval = "100ms";
  std::vector<std::string> extra_api_args;
  std::vector<std::string> extra_payment_args;
  std::vector<std::string> extra_worker_args;
  // Where logs go. Empty: a fresh TempDir, removed with the cluster unless the test failed
  // (or FAULTLINE_KEEP_TEMP=1).
  std::string log_dir;
};

class DemoCluster {
 public:
  // Starts redis, payment, api and (optionally) the worker. Throws EnvironmentError.
  explicit DemoCluster(DemoClusterOptions options = {});
  // Stops worker, api, payment and redis, by PID.
  ~DemoCluster();
  DemoCluster(const DemoCluster&) = delete;
  DemoCluster& operator=(const DemoCluster&) = delete;

  const std::string& api_url() const { return api_.url; }
  const std::string& payment_url() const { return payment_.url; }
  const std::string& worker_url() const { return worker_.url; }  // "" when no worker runs
  RedisServer& redis() { return *redis_; }
  ChildProcess& api_process() { return *api_.process; }
  ChildProcess& payment_process() { return *payment_.process; }
  ChildProcess& worker_process() { return *worker_.process; }
  const DemoClusterOptions& options() const { return options_; }
  const std::string& log_dir() const { return log_dir_; }

  // Sends `sig` to the worker and waits until it has exited (SIGKILL: a crash).
  void kill_worker(int sig);
  // Starts the worker (again): same --worker-id and Redis, a new port and URL.
  void start_worker();
  // Stops Redis (SIGTERM); start_redis() brings a fresh one up on the same port.
  void stop_redis();
  void start_redis();

  // The last lines of every service log, for failure messages.
  std::string logs() const;

 private:
  std::vector<std::string> common_args() const;
  std::vector<std::pair<std::string, std::string>> env() const;

  DemoClusterOptions options_;
  std::optional<TempDir> temp_log_dir_;  // declared first: outlives the processes logging there
  std::string log_dir_;
  int redis_port_ = 0;
  std::optional<RedisServer> redis_;
  DemoService payment_;
  DemoService api_;
  DemoService worker_;
  int worker_starts_ = 0;
};

// A server a test starts on a free loopback port (a Pushgateway, a Prometheus): `argv(port)`
// is its command line for that port. Retries on a port clash (a free port is free only a
// moment ago) and waits until GET <url><ready_path> answers 200. Throws EnvironmentError with
// the log's tail when it never does. Stopped by PID (process group) when it goes.
struct LoopbackServer {
  LoopbackServer(const std::function<std::vector<std::string>(int port)>& argv,
                 const std::string& log_prefix, const std::string& ready_path,
                 std::chrono::milliseconds timeout);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  std::optional<ChildProcess> process;
  std::string url;  // "http://127.0.0.1:<port>"
};

// Small HTTP helpers over http_call for tests.
HttpResponse http_get(const std::string& url, std::vector<std::string> headers = {});
HttpResponse http_post(const std::string& url, const std::string& body,
                       std::vector<std::string> headers = {});

// Polls `condition` every `interval` until it holds or `timeout` passes. Returns whether it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(20));

}  // namespace faultline::testing
