// One blocking HTTP exchange, for control-plane calls (preflight, fault knobs, readiness
// checks) and tests. Built on a private libcurl multi handle like every other HTTP path in
// faultline, so proxies, timeouts and error classes behave the same everywhere.
//
// Thread-safety: http_call may be called from any thread concurrently.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace faultline {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::chrono::milliseconds timeout{5000};
};

struct HttpResponse {
  long status = 0;  // 0 when no response arrived (see error)
  std::string body;
  std::vector<std::string> headers;  // raw "Name: value" lines of the final response
  std::string error;                 // empty on a transport success; else curl's message
  std::string error_class;           // "", "timeout", "refused", "reset", "dns", "other"
  std::chrono::microseconds elapsed{0};

  bool ok() const { return error.empty() && status >= 200 && status < 300; }
  // Value of the first header with this name (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

HttpResponse http_call(const HttpRequest& request);

// curl_global_init exactly once per process; called by http_call and the load engine.
void ensure_curl_initialized();

}  // namespace faultline
