// The demo services' HTTP server: civetweb underneath, routes by template, and the behaviour
// every endpoint shares so handlers only do their own work:
//  - every request has an X-Request-Id (the client's, else "<prefix>-<n>" from a process-local
//    counter) and every response echoes it;
//  - bodies over max_body_bytes get 413, unknown paths 404, wrong methods 405 (with Allow),
//    a handler exception 500 - all as RFC 7807 problem JSON - and the server keeps serving;
//  - request metrics by route template; one log line per 4xx/5xx answer (and, with access_log,
//    per other answer) with the request id and, when the request carried a W3C traceparent,
//    its trace id;
//  - a bulkhead: business routes may occupy at most threads - kThreadsKeptFree server threads;
//    a business request beyond that gets 503 at once. Control routes (health, readiness,
//    metrics, the fault endpoints) are never refused, so an incident that saturates the
//    service cannot lock out the engine that has to switch the fault off.
//
// Thread-safety: add routes before start(); handlers run concurrently on the server's threads.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/router.h"
#include "metrics/service_metrics.h"

struct mg_context;
struct mg_connection;

namespace faultline::demo {

struct Request {
  std::string method;
  std::string path;   // URL-decoded, without the query
  std::string query;  // raw, without '?'
  std::string route;  // the matched template, e.g. "/users/{id}"
  std::map<std::string, std::string> params;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string request_id;
  std::string remote_addr;
  std::string trace_id;  // of a valid W3C traceparent header, else "" (http/trace_context.h)

  // First header with this name (case-insensitive), or "".
  std::string header(std::string_view name) const;
  std::string param(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string log_detail;  // why, for the server's error log line (problem detail)
  bool quiet = false;      // no log line even for a 4xx/5xx (e.g. /readyz polled while down)
};

Response json_response(int status, std::string body);

// RFC 7807 problem: {"type","title","status","detail","instance","request_id", extra...}.
// `slug` names the problem type ("bad-json" -> "urn:faultline:problem:bad-json").
Response problem_response(const Request& request, int status, std::string_view slug,
                          std::string_view title, std::string_view detail,
                          const std::vector<std::pair<std::string, std::string>>& extra = {});

using Handler = std::function<Response(const Request&)>;

struct HttpServerOptions {
  std::string bind = "127.0.0.1";
  int port = 0;  // 0: a free port
  int threads = 16;
  uint64_t max_body_bytes = 64 * 1024;
  std::string request_id_prefix = "demo";
  bool access_log = false;  // log every request, not only 4xx/5xx
};

// True when `id` is acceptable as an X-Request-Id: 1..200 printable ASCII characters, no space.
bool valid_request_id(std::string_view id);

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, ServiceMetrics& metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Threads business routes leave free for control routes.
  static constexpr int kThreadsKeptFree = 2;

  // A business route: subject to the bulkhead.
  void route(std::string method, std::string path_template, Handler handler);
  // A control route: health, readiness, metrics, fault endpoints. Always admitted.
  void control_route(std::string method, std::string path_template, Handler handler);

  // Binds and starts serving. Returns the base URL actually bound ("http://127.0.0.1:41234";
  // for a wildcard bind, the loopback address).
  // Throws EnvironmentError when it cannot listen (address in use, bad bind address).
  std::string start();

  // Stops accepting and waits for running handlers. Idempotent.
  void stop();

 private:
  static int on_request(mg_connection* conn, void* self);
  static int on_http_error(mg_connection* conn, int status, const char* message);
  static int on_log_message(const mg_connection* conn, const char* message);
  void handle(mg_connection* conn);
  Response dispatch(Request& request, mg_connection* conn, std::string* route_label);
  std::string next_request_id();

  HttpServerOptions options_;
  ServiceMetrics& metrics_;
  Router router_;
  std::vector<Handler> handlers_;
  std::vector<bool> is_control_;  // per route, parallel to handlers_
  std::atomic<int> business_in_flight_{0};
  mg_context* ctx_ = nullptr;
  std::string url_;  // where we listen, as a client reaches it
  std::atomic<uint64_t> request_counter_{0};
  Gauge& busy_threads_;
};

}  // namespace faultline::demo
