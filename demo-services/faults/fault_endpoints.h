// The fault contract's HTTP side: GET /__faults, POST /__faults, POST /__faults/reset, and the
// guard in front of them:
//  - not enabled (no --faults / DEMO_FAULTS) or production mode (APP_ENV=production): the
//    routes are not installed, so they answer 404 like any unknown path;
//  - with a token (--fault-token / DEMO_FAULT_TOKEN): requests without
//    "Authorization: Bearer <token>" get 401.
// Every change is logged with who asked (remote address, User-Agent) and what was applied.
#pragma once

#include <string>
#include <string_view>

#include "faults/fault_knobs.h"
#include "http/http_server.h"
#include "metrics/service_metrics.h"

namespace faultline::demo {

struct FaultGuard {
  bool enabled = false;
  bool production = false;
  std::string token;  // empty: no token required
};

// Whether the fault endpoints exist at all.
bool fault_endpoints_exposed(const FaultGuard& guard);

// True when `authorization` ("Bearer <token>") satisfies the guard's token, or none is set.
bool fault_request_authorized(const FaultGuard& guard, std::string_view authorization);

// `h` behind the guard's token check: 401 (and a logged warning) without the right token.
Handler with_fault_guard(const FaultGuard& guard, Handler h);

// A control route that exists and is guarded exactly like /__faults: only when
// fault_endpoints_exposed(guard), and only with the token. For the admin routes a chaos
// experiment reads (GET /orders/applied on the worker), which a production service must not
// answer to anyone.
void install_guarded_route(HttpServer& server, const FaultGuard& guard, const std::string& method,
                           const std::string& path, Handler h);

// Installs the routes when fault_endpoints_exposed(guard). `faults` and `metrics` must outlive
// the server.
void install_fault_endpoints(HttpServer& server, FaultState& faults, const FaultGuard& guard,
                             std::string role, ServiceMetrics& metrics);

}  // namespace faultline::demo
