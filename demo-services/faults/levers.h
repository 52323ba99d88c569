// Runtime levers: the rollback and mitigation switches of the demo services, changed while the
// service runs through the admin endpoint /__levers (docs/fault-contract.md, "Levers";
// docs/production-spec.md, "Rollback / mitigation levers"). Faults break the system; levers are
// what an operator pulls to limit the damage.
//
//   GET    /__levers  the active values, the start-up values (the baseline) and the catalog
//   PUT    /__levers  merges {"lever": value, ... [, "ttl_ms": N]} into the active values;
//                     all-or-nothing, 400 Problem+JSON naming the bad member
//   DELETE /__levers  every lever back to its start-up value
//
// A lever's default is the service's start-up flag (--payment-timeout for payment_timeout_ms,
// ...), so DELETE means "as deployed" and a run that resets its levers leaves the service at
// baseline. With ttl_ms the levers revert on their own when the lease runs out, as fault knobs
// do (faultline's knob driver renews it), so a faultline killed mid-run leaves no lever pulled.
//
// The routes are guarded exactly like /__faults (faults/fault_endpoints.h): only with
// --faults, never in production mode (404), and only with the fault token.
#pragma once

#include <string>
#include <vector>

#include "core/config.h"
#include "faults/fault_endpoints.h"
#include "faults/fault_knobs.h"
#include "http/http_server.h"
#include "metrics/service_metrics.h"

namespace faultline::demo {

// The levers of `config`'s role, with `config`'s start-up values as defaults. The payment
// role has none (its fixes are start-up only); GET /__levers then lists an empty catalog.
std::vector<KnobSpec> lever_catalog(const DemoConfig& config);

// Installs GET/PUT/DELETE /__levers when fault_endpoints_exposed(guard). `levers` and
// `metrics` must outlive the server. Changes are logged (who, what) and counted in
// lever_changes_total{action}.
void install_lever_endpoints(HttpServer& server, FaultState& levers, const FaultGuard& guard,
                             std::string role, ServiceMetrics& metrics);

}  // namespace faultline::demo
