// One blocking HTTP exchange, for control-plane calls (preflight, fault knobs, readiness
// checks) and tests. Built on a private libcurl multi handle like every other HTTP path in
// faultline, so proxies, timeouts and error classes behave the same everywhere.
//
// Thread-safety: http_call may be called from any thread concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct curl_slist;

namespace faultline {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::chrono::milliseconds timeout{5000};
  // The largest response body accepted. A larger one ends the exchange with error_class
  // "too_large" (and no body), so a hostile or broken endpoint cannot fill memory or disk.
  size_t max_body_bytes = kDefaultMaxBodyBytes;
  static constexpr size_t kDefaultMaxBodyBytes = 16u << 20;  // 16 MiB
};

struct HttpResponse {
  long status = 0;  // 0 when no response arrived (see error)
  std::string body;
  std::vector<std::string> headers;  // raw "Name: value" lines of the final response
  std::string error;                 // empty on a transport success; else curl's message
  // "", "timeout", "refused", "reset", "dns", "too_large", "other"
  std::string error_class;
  std::chrono::microseconds elapsed{0};

  bool ok() const { return error.empty() && status >= 200 && status < 300; }
  // Value of the first header with this name (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

HttpResponse http_call(const HttpRequest& request);

struct BodySink;  // http_call.cc

// One HttpRequest prepared on its own easy handle, for event loops that run it on a multi handle
// they own (the load engine's side requests). http_call is built on it, so every control-plane
// call sets the same options (no proxy, no signals, timeout) and classifies errors the same way.
// REQUIRES: the exchange outlives the transfer (remove the handle from its multi first).
class HttpExchange {
 public:
  explicit HttpExchange(HttpRequest request);
  ~HttpExchange();
  HttpExchange(const HttpExchange&) = delete;
  HttpExchange& operator=(const HttpExchange&) = delete;

  void* easy_handle() const { return easy_; }  // a CURL*: add it to a multi handle
  const HttpRequest& request() const { return request_; }
  // Once the transfer is done: fills status, error, error_class and elapsed from curl's result
  // code (a CURLcode) and returns the response, which the caller may move from.
  HttpResponse& finish(int curl_code);

 private:
  HttpRequest request_;  // owns the URL, body and header strings for the transfer's life
  HttpResponse response_;
  bool body_too_large_ = false;
  void* easy_ = nullptr;
  curl_slist* header_list_ = nullptr;
  std::unique_ptr<BodySink> body_sink_;
};

// faultline's error class of a CURLcode: "", "timeout", "refused", "reset", "dns", "too_large"
// or "other".
// The view refers to a static string.
std::string_view curl_error_class(int curl_code);

// curl_global_init exactly once per process; called by http_call and the load engine.
void ensure_curl_initialized();

}  // namespace faultline
