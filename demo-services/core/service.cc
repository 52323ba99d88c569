#include "core/service.h"

#include <algorithm>
#include <cstdio>

#include "common/error.h"
#include "core/event_log.h"
#include "faults/fault_endpoints.h"

namespace faultline::demo {

namespace {

HttpServerOptions server_options(const DemoConfig& c) {
  HttpServerOptions o;
  o.bind = c.bind;
  o.port = c.port;
  o.threads = c.threads;
  o.max_body_bytes = c.max_body_bytes;
  o.request_id_prefix = std::string(demo::role_name(c.role));
  o.access_log = c.access_log;
  return o;
}

bool is_loopback(const std::string& bind) {
  return bind == "localhost" || bind == "::1" || bind.rfind("127.", 0) == 0;
}

}  // namespace

Service::Service(DemoConfig config)
    : config_(std::move(config)),
      metrics_(registry_),
      faults_(knob_catalog(config_.role)),
      levers_(lever_catalog(config_)),
      http_(server_options(config_), metrics_),
      readiness_(metrics_, stop_, config_.check_interval) {
  const std::string role = role_name();
  metrics_.build_info.with({role, FAULTLINE_DEMO_VERSION}).Set(1);
  registry_.add_collect_hook([this] {
    const auto t = now();
    for (const auto& k : faults_.catalog())
      metrics_.fault_knob_value.with({k.name}).Set(faults_.value(k.name, t));
    const auto lease = faults_.lease_remaining(t);
    metrics_.fault_lease_remaining.Set(lease ? static_cast<double>(lease->count()) / 1000.0 : 0.0);
    for (const auto& k : levers_.catalog())
      metrics_.lever_value.with({k.name}).Set(levers_.value(k.name, t));
  });

  http_.control_route("GET", "/healthz", [role](const Request&) {
    return json_response(200, "{\"status\":\"ok\",\"role\":\"" + role + "\"}");
  });
  http_.control_route("GET", "/readyz", [this](const Request&) {
    Response r = json_response(readiness_.ready() ? 200 : 503, readiness_.status_json());
    r.quiet = true;  // readiness changes are logged once by the monitor, not per poll
    return r;
  });
  http_.control_route("GET", "/metrics", [this](const Request&) {
    Response r;
    r.content_type = std::string(kMetricsContentType);
    r.body = registry_.render();
    return r;
  });
  install_fault_endpoints(http_, faults_, fault_guard(), role, metrics_);
  install_lever_endpoints(http_, levers_, fault_guard(), role, metrics_);
}

Service::~Service() {
  stop_.request_stop();
  if (lease_thread_.joinable()) lease_thread_.join();
  readiness_.stop();
  http_.stop();
}

std::string Service::role_name() const {
  return std::string(demo::role_name(config_.role));
}

std::optional<Response> Service::hold_if_forced(const Request& request) {
  if (!faults_.flag("force_timeout", now())) return std::nullopt;
  const auto deadline = now() + config_.max_force_timeout;
  while (true) {
    if (stop_.stop_requested()) return shutting_down_response(request);
    const auto t = now();
    if (!faults_.flag("force_timeout", t)) return std::nullopt;
    if (t >= deadline)
      return problem_response(request, 504, "forced-timeout", "Gateway Timeout",
                              "held by the force_timeout fault for --max-force-timeout");
    stop_.wait_for(std::min<Duration>(std::chrono::milliseconds(20),
                                      std::chrono::duration_cast<Duration>(deadline - t)));
  }
}

void Service::watch_lease() {
  while (stop_.wait_for(std::chrono::milliseconds(50))) {
    if (faults_.expire_if_due(now())) {
      metrics_.fault_changes.with({"lease_expired"}).Increment();
      log_event(LogLevel::kInfo, "fault_lease_expired", {{"state", "baseline"}});
    }
  }
}

std::string Service::start(RoleLogic& logic) {
  readiness_.check_now();
  const std::string url = http_.start();
  readiness_.start();
  lease_thread_ = std::thread([this] { watch_lease(); });
  logic.start();
  return url;
}

void Service::stop(RoleLogic& logic) {
  if (stopped_) return;
  stopped_ = true;
  stop_.request_stop();
  logic.stop();
  http_.stop();
  readiness_.stop();
  if (lease_thread_.joinable()) lease_thread_.join();
}

Response shutting_down_response(const Request& request) {
  return problem_response(request, 503, "shutting-down", "Service Unavailable",
                          "the service is shutting down");
}

std::optional<Response> db_failure_response(const Request& request, DbOutcome outcome) {
  switch (outcome) {
    case DbOutcome::kOk:
      return std::nullopt;
    case DbOutcome::kFailed:
      return problem_response(request, 503, "db-unavailable", "Service Unavailable",
                              "the database call failed (db_fail_rate)");
    case DbOutcome::kDeadlineExceeded:
      return problem_response(request, 504, "deadline-exceeded", "Gateway Timeout",
                              "the caller's deadline passed during the database call");
    case DbOutcome::kInterrupted:
      break;
  }
  return shutting_down_response(request);
}

std::unique_ptr<RoleLogic> make_role_logic(Service& service) {
  switch (service.config().role) {
    case Role::kApi:
      return make_api_logic(service);
    case Role::kPayment:
      return make_payment_logic(service);
    case Role::kWorker:
      return make_worker_logic(service);
  }
  return nullptr;
}

int run_demo(const DemoConfig& config, const std::function<void()>& wait_for_stop_request) {
  const std::string role(role_name(config.role));
  set_log_role(role);
  Service service(config);
  std::unique_ptr<RoleLogic> logic = make_role_logic(service);
  std::string url;
  try {
    url = service.start(*logic);
  } catch (const std::exception& e) {
    log_event(LogLevel::kError, "start_failed", {{"error", e.what()}});
    service.stop(*logic);
    return static_cast<int>(ExitCode::kEnvironment);
  }
  const bool exposed = config.faults && !config.production;
  log_event(LogLevel::kInfo, "start",
            {{"url", url},
             {"version", FAULTLINE_DEMO_VERSION},
             {"threads", std::to_string(config.threads)},
             {"faults", exposed ? "enabled" : (config.faults ? "refused: production" : "off")},
             {"fault_token", config.fault_token.empty() ? "none" : "set"}});
  if (exposed && !is_loopback(config.bind) && config.fault_token.empty())
    log_event(LogLevel::kWarn, "faults_exposed",
              {{"bind", config.bind},
               {"detail", "fault endpoints on a non-loopback address without --fault-token"}});
  std::printf("faultline-demo %s listening on %s\n", role.c_str(), url.c_str());
  std::fflush(stdout);
  wait_for_stop_request();
  log_event(LogLevel::kInfo, "stopping");
  service.stop(*logic);
  log_event(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace faultline::demo
