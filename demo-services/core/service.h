// What every role shares, wired together: configuration, metrics, fault state, the HTTP server
// with /healthz, /readyz, /metrics and the fault endpoints, readiness probing, the fault lease
// watcher and the stop signal. A role (api, payment, worker) adds its own routes, dependencies
// and threads through a RoleLogic; run_demo() is the whole life of a process.
//
// Lifecycle: construct -> role adds routes/dependencies -> start() -> ... -> stop(). After
// stop() nothing runs: the server, the readiness thread, the lease watcher and the role's
// threads have all been joined.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "core/config.h"
#include "core/readiness_monitor.h"
#include "core/simulated_db.h"
#include "core/stop_signal.h"
#include "faults/fault_endpoints.h"
#include "faults/fault_knobs.h"
#include "faults/levers.h"
#include "http/http_server.h"
#include "metrics/metrics_registry.h"
#include "metrics/service_metrics.h"

namespace faultline::demo {

class RoleLogic {
 public:
  virtual ~RoleLogic() = default;
  // After the HTTP server started (the worker starts its consumers here).
  virtual void start() {}
  // After a stop was requested: finish or hand back current work and join threads.
  virtual void stop() {}
};

class Service {
 public:
  explicit Service(DemoConfig config);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  const DemoConfig& config() const { return config_; }
  std::string role_name() const;
  ServiceMetrics& metrics() { return metrics_; }
  FaultState& faults() { return faults_; }
  // The runtime levers behind /__levers (faults/levers.h); defaults are the start-up flags.
  FaultState& levers() { return levers_; }
  HttpServer& http() { return http_; }
  // Who may reach the fault endpoints, and the admin routes guarded like them.
  FaultGuard fault_guard() const {
    return {config_.faults, config_.production, config_.fault_token};
  }
  ReadinessMonitor& readiness() { return readiness_; }
  const StopSignal& stop_signal() const { return stop_; }
  static FaultState::Clock::time_point now() { return FaultState::Clock::now(); }

  // force_timeout: while the knob is on, holds the request - until the knob goes off (then the
  // request proceeds: nullopt), until --max-force-timeout passes (504), or until shutdown
  // (503). Returns nullopt at once when the knob is off. Held requests count against the HTTP
  // server's bulkhead (business routes), so the control and metrics endpoints keep a thread.
  // REQUIRES: the role has the knob.
  std::optional<Response> hold_if_forced(const Request& request);

  // Probes readiness once, starts serving, the watchers and the role. Returns the bound URL.
  // Throws EnvironmentError when the server cannot listen.
  std::string start(RoleLogic& logic);

  // Requests a stop and joins everything. Idempotent.
  void stop(RoleLogic& logic);

 private:
  void watch_lease();

  DemoConfig config_;
  StopSignal stop_;
  MetricsRegistry registry_;
  ServiceMetrics metrics_;
  FaultState faults_;
  FaultState levers_;
  HttpServer http_;
  ReadinessMonitor readiness_;
  std::thread lease_thread_;
  bool stopped_ = false;
};

// 503 for a request whose work a shutdown cut short.
Response shutting_down_response(const Request& request);

// The answer to give when a simulated DB call did not succeed (503: failed by db_fail_rate, or
// cut short by shutdown; 504: the caller's deadline passed); nullopt when it succeeded.
std::optional<Response> db_failure_response(const Request& request, DbOutcome outcome);

// The role's logic for this service (adds its routes and dependencies on construction).
std::unique_ptr<RoleLogic> make_role_logic(Service& service);
std::unique_ptr<RoleLogic> make_api_logic(Service& service);
std::unique_ptr<RoleLogic> make_payment_logic(Service& service);
std::unique_ptr<RoleLogic> make_worker_logic(Service& service);

// The life of one process: start, print the ready line on stdout (flushed), call
// `wait_for_stop_request` (returns on SIGTERM/SIGINT), stop. Returns the exit status:
// 0 after a graceful stop, 3 when the service could not start.
int run_demo(const DemoConfig& config, const std::function<void()>& wait_for_stop_request);

}  // namespace faultline::demo
