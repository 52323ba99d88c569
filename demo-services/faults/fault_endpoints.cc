#include "faults/fault_endpoints.h"

#include <strings.h>

#include "core/event_log.h"

namespace faultline::demo {

namespace {

// Compares without an early exit, so timing does not tell how much of a guess was right.
bool same_secret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::string who(const Request& r) {
  std::string ua = r.header("User-Agent");
  return r.remote_addr + (ua.empty() ? "" : " (" + ua + ")");
}

}  // namespace

bool fault_endpoints_exposed(const FaultGuard& guard) {
  return guard.enabled && !guard.production;
}

bool fault_request_authorized(const FaultGuard& guard, std::string_view authorization) {
  if (guard.token.empty()) return true;
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() < kScheme.size() ||
      strncasecmp(authorization.data(), kScheme.data(), kScheme.size()) != 0)
    return false;
  return same_secret(authorization.substr(kScheme.size()), guard.token);
}

Handler with_fault_guard(const FaultGuard& guard, Handler h) {
  return [guard, h = std::move(h)](const Request& r) {
    if (!fault_request_authorized(guard, r.header("Authorization"))) {
      log_event(LogLevel::kWarn, "fault_unauthorized",
                {{"request_id", r.request_id}, {"who", who(r)}, {"path", r.path}});
      Response resp = problem_response(r, 401, "unauthorized", "Unauthorized",
                                       "the fault endpoints need 'Authorization: Bearer "
                                       "<token>' (the service's --fault-token)");
      resp.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"faultline\"");
      return resp;
    }
    return h(r);
  };
}

void install_guarded_route(HttpServer& server, const FaultGuard& guard, const std::string& method,
                           const std::string& path, Handler h) {
  if (!fault_endpoints_exposed(guard)) return;
  server.control_route(method, path, with_fault_guard(guard, std::move(h)));
}

void install_fault_endpoints(HttpServer& server, FaultState& faults, const FaultGuard& guard,
                             std::string role, ServiceMetrics& metrics) {
  if (!fault_endpoints_exposed(guard)) return;
  auto now = [] { return FaultState::Clock::now(); };
  auto guarded = [&guard](Handler h) { return with_fault_guard(guard, std::move(h)); };

  server.control_route("GET", "/__faults", guarded([&faults, role, now](const Request&) {
                         return json_response(200, faults.state_json(role, now()));
                       }));

  server.control_route(
      "POST", "/__faults", guarded([&faults, &metrics, role, now](const Request& r) {
        const FaultState::ApplyResult result = faults.apply_json(r.body, now());
        if (!result.ok) {
          metrics.fault_changes.with({"rejected"}).Increment();
          log_event(LogLevel::kWarn, "fault_rejected",
                    {{"request_id", r.request_id},
                     {"who", who(r)},
                     {"knob", result.knob},
                     {"detail", result.message}});
          std::vector<std::pair<std::string, std::string>> extra;
          if (!result.knob.empty()) extra.emplace_back("knob", result.knob);
          return problem_response(r, 400, result.knob.empty() ? "bad-json" : "bad-knob",
                                  result.knob.empty() ? "Malformed fault request" : "Bad knob",
                                  result.message + "; nothing was applied", extra);
        }
        metrics.fault_changes.with({"set"}).Increment();
        log_event(LogLevel::kInfo, "fault_set",
                  {{"request_id", r.request_id}, {"who", who(r)}, {"applied", result.applied}});
        return json_response(200, faults.state_json(role, now()));
      }));

  server.control_route(
      "POST", "/__faults/reset", guarded([&faults, &metrics, role, now](const Request& r) {
        faults.reset();
        metrics.fault_changes.with({"reset"}).Increment();
        log_event(LogLevel::kInfo, "fault_reset", {{"request_id", r.request_id}, {"who", who(r)}});
        return json_response(200, faults.state_json(role, now()));
      }));
}

}  // namespace faultline::demo
