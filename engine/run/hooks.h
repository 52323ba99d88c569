// Setup and verify hooks: commands or HTTP probes a run makes once, outside the traffic. A
// setup hook runs after the services are up and before the first request (seed data, clear
// state); a verify hook after the traffic ended and the faults were undone (read what the
// system applied, for history.* and verify.* assertions; judge/run_facts.h).
//
// One attempt: after `wait`, an exec hook's argv is run (no shell; PATH lookup for a bare
// name) in its own process group with stdout to the bundle's hooks/<name>.out and stderr to
// hooks/<name>.err; one outliving `timeout` has its group stopped. An http hook sends
// `method path` to its service (no proxy, like every control call) and its body goes to
// hooks/<name>.out. An attempt succeeds on exit 0 or HTTP 2xx, and, when the hook asks for
// applied_ids, when its output is JSON with an array of strings or whole numbers there.
// With retry_until_ok, a failed attempt is tried again every kRetryPause until that long
// after the first attempt began. hooks/<name>.status.json records how it went.
//
// Placeholders {svc.port}, {svc.url}, {svc.host} in argv and the path are filled from the
// running services.
//
// Thread-safety: none; the run session's control thread calls it.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "recorded/bundle.h"
#include "report/report.h"
#include "spec/scenario.h"

namespace faultline {

// Where a running service answers.
struct HookServiceAddress {
  std::string url;  // "http://127.0.0.1:40123"
  std::string host;
  int port = 0;
};
// The address of a running service by name; throws EnvironmentError for one not running.
using HookServiceLookup = std::function<HookServiceAddress(const std::string& service)>;

struct HookRunOptions {
  BundleLayout bundle;
  HookServiceLookup lookup;
  std::function<bool()> interrupted;  // polled while waiting; true ends the hook as failed
  std::chrono::milliseconds retry_pause{500};
  // The largest output kept in memory (for applied_ids and verify.* reads).
  size_t max_output_bytes = 64u << 20;
};

// Runs `hook` of `stage` ("setup" or "verify") and returns how it went, output included.
// Never throws for the hook's own failure (that is HookRecord::ok false with the reason);
// throws EnvironmentError when the bundle cannot be written.
HookRecord run_hook(const HookSpec& hook, const std::string& stage, const HookRunOptions& options);

// `text` with {svc.port}, {svc.url}, {svc.host} filled from `lookup`. Throws EnvironmentError
// for an unknown attribute or {port} alone (the spec checks refuse both).
std::string resolve_hook_placeholders(const std::string& text, const HookServiceLookup& lookup);

}  // namespace faultline
