#include "http/http_server.h"

#include <civetweb.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <strings.h>

#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "common/error.h"
#include "core/event_log.h"
#include "http/trace_context.h"
#include "net/http_call.h"

namespace faultline::demo {

namespace {

// Past this, an oversized body is no longer read and discarded; the connection just closes.
constexpr uint64_t kDrainCapBytes = 16ull << 20;

std::mutex g_civetweb_message_mu;
std::string g_first_civetweb_message;  // the first message since mg_start, to explain a failure

std::string_view method_label(std::string_view method) {
  static const char* const known[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
  for (const char* k : known)
    if (method == k) return k;
  return "other";
}

std::string host_for_url(const std::string& bind) {
  return bind.find(':') != std::string::npos ? "[" + bind + "]" : bind;
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

std::string problem_json(int status, std::string_view slug, std::string_view title,
                         std::string_view detail, std::string_view instance,
                         std::string_view request_id,
                         const std::vector<std::pair<std::string, std::string>>& extra) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("type");
  write_string(w, "urn:faultline:problem:" + std::string(slug));
  w.Key("title");
  write_string(w, title);
  w.Key("status");
  w.Int(status);
  w.Key("detail");
  write_string(w, detail);
  if (!instance.empty()) {
    w.Key("instance");
    write_string(w, instance);
  }
  if (!request_id.empty()) {
    w.Key("request_id");
    write_string(w, request_id);
  }
  for (const auto& [k, v] : extra) {
    w.Key(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
    write_string(w, v);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

void write_all(mg_connection* conn, const std::string& head, const std::string& body) {
  mg_write(conn, head.data(), head.size());
  if (!body.empty()) mg_write(conn, body.data(), body.size());
}

std::string response_head(mg_connection* conn, const Response& r, std::string_view request_id) {
  std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " +
                     mg_get_response_code_text(conn, r.status) + "\r\n";
  head += "Content-Type: " + r.content_type + "\r\n";
  head += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  if (!request_id.empty()) head += "X-Request-Id: " + std::string(request_id) + "\r\n";
  head += "Cache-Control: no-store\r\nConnection: close\r\n";
  for (const auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
  head += "\r\n";
  return head;
}

enum class BodyStatus { kOk, kTooLarge };

// Reads the request body into *body, at most max_bytes of it. An oversized body is drained (up
// to a cap) so the client reads our 413 instead of a connection reset - except when the client
// waits for "100 Continue", which then never comes: it gets the 413 straight away.
BodyStatus read_body(mg_connection* conn, const mg_request_info* ri, uint64_t max_bytes,
                     std::string* body) {
  const long long declared = ri->content_length;
  if (declared >= 0 && static_cast<uint64_t>(declared) > max_bytes) {
    const char* expect = mg_get_header(conn, "Expect");
    if (expect && strcasecmp(expect, "100-continue") == 0) return BodyStatus::kTooLarge;
  }
  char buf[8192];
  uint64_t total = 0;
  bool too_large = false;
  while (total < kDrainCapBytes) {
    const int n = mg_read(conn, buf, sizeof buf);
    if (n <= 0) break;
    total += static_cast<uint64_t>(n);
    if (total > max_bytes) {
      too_large = true;
      body->clear();
    } else {
      body->append(buf, static_cast<size_t>(n));
    }
  }
  if (too_large || (declared >= 0 && static_cast<uint64_t>(declared) > max_bytes))
    return BodyStatus::kTooLarge;
  return BodyStatus::kOk;
}

}  // namespace

std::string Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), name.size()) == 0) return v;
  return "";
}

std::string Request::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? "" : it->second;
}

Response json_response(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response problem_response(const Request& request, int status, std::string_view slug,
                          std::string_view title, std::string_view detail,
                          const std::vector<std::pair<std::string, std::string>>& extra) {
  Response r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = problem_json(status, slug, title, detail, request.path, request.request_id, extra);
  r.log_detail = std::string(detail);
  return r;
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 200) return false;
  for (char c : id)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

HttpServer::HttpServer(HttpServerOptions options, ServiceMetrics& metrics)
    : options_(std::move(options)),
      metrics_(metrics),
      busy_threads_(metrics.pool_busy_threads.with({"http"})) {
  metrics_.pool_threads.with({"http"}).Set(options_.threads);
  metrics_.registry.add_collect_hook([this] {
    metrics_.pool_saturation.with({"http"}).Set(busy_threads_.Value() / options_.threads);
  });
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(std::string method, std::string path_template, Handler handler) {
  router_.add(std::move(method), std::move(path_template));
  handlers_.push_back(std::move(handler));
  is_control_.push_back(false);
}

void HttpServer::control_route(std::string method, std::string path_template, Handler handler) {
  route(std::move(method), std::move(path_template), std::move(handler));
  is_control_.back() = true;
}

std::string HttpServer::next_request_id() {
  return options_.request_id_prefix + "-" +
         std::to_string(request_counter_.fetch_add(1, std::memory_order_relaxed) + 1);
}

std::string HttpServer::start() {
  static std::once_flag init;
  std::call_once(init, [] { mg_init_library(0); });
  const std::string listen = host_for_url(options_.bind) + ":" + std::to_string(options_.port);
  constexpr unsigned kIpv6Feature = 8;  // mg_check_feature bit; Debian 12 builds civetweb without
  if (options_.bind.find(':') != std::string::npos && !mg_check_feature(kIpv6Feature))
    throw EnvironmentError("cannot listen on " + listen +
                           ": this civetweb build has no IPv6 support; use --bind 127.0.0.1");
  const std::string threads = std::to_string(options_.threads);
  const char* opts[] = {"listening_ports",
                        listen.c_str(),
                        "num_threads",
                        threads.c_str(),
                        "enable_keep_alive",
                        "no",
                        "request_timeout_ms",
                        "30000",
                        nullptr};
  mg_callbacks callbacks{};
  callbacks.http_error = &HttpServer::on_http_error;
  callbacks.log_message = &HttpServer::on_log_message;
  {
    std::lock_guard<std::mutex> lock(g_civetweb_message_mu);
    g_first_civetweb_message.clear();
  }
  ctx_ = mg_start(&callbacks, this, opts);
  if (!ctx_) {
    std::lock_guard<std::mutex> lock(g_civetweb_message_mu);
    throw EnvironmentError(
        "cannot listen on " + listen +
        (g_first_civetweb_message.empty() ? "" : ": " + g_first_civetweb_message) +
        "; pick another --port or --bind");
  }
  mg_set_request_handler(ctx_, "/", &HttpServer::on_request, this);
  mg_server_port ports[4];
  const int n = mg_get_server_ports(ctx_, 4, ports);
  if (n < 1) {
    stop();
    throw EnvironmentError("civetweb started without a listening port on " + listen);
  }
  const std::string host = options_.bind == "0.0.0.0" ? "127.0.0.1" : options_.bind;
  url_ = "http://" + host_for_url(host) + ":" + std::to_string(ports[0].port);
  return url_;
}

void HttpServer::stop() {
  if (!ctx_) return;
  // civetweb's accept loop only notices a stop when its poll() returns, which without traffic
  // takes up to its 2 s quantum. Connecting to ourselves wakes it, so a stop takes milliseconds.
  std::atomic<bool> stopped{false};
  std::thread waker([this, &stopped] {
    HttpRequest wake;
    wake.url = url_ + "/healthz";
    wake.timeout = std::chrono::milliseconds(100);
    for (int i = 0; i < 20 && !stopped.load(); ++i) http_call(wake);
  });
  mg_stop(ctx_);
  stopped.store(true);
  waker.join();
  ctx_ = nullptr;
}

int HttpServer::on_request(mg_connection* conn, void* self) {
  static_cast<HttpServer*>(self)->handle(conn);
  return 1;  // handled (civetweb then closes: keep-alive is off)
}

int HttpServer::on_http_error(mg_connection* conn, int status, const char* message) {
  // Errors civetweb raises itself (unparsable request line, unknown method): same problem JSON,
  // and an X-Request-Id like every other answer.
  auto* self = static_cast<HttpServer*>(mg_get_user_data(mg_get_context(conn)));
  Request req;
  const mg_request_info* ri = mg_get_request_info(conn);
  if (ri && ri->local_uri) req.path = ri->local_uri;
  if (self) req.request_id = self->next_request_id();
  Response r = problem_response(req, status, "http-error", mg_get_response_code_text(conn, status),
                                message ? message : "");
  write_all(conn, response_head(conn, r, req.request_id), r.body);
  log_event(LogLevel::kInfo, "http_error",
            {{"request_id", req.request_id},
             {"status", std::to_string(status)},
             {"detail", message ? message : ""}});
  return 0;
}

int HttpServer::on_log_message(const mg_connection*, const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  {
    std::lock_guard<std::mutex> lock(g_civetweb_message_mu);
    if (g_first_civetweb_message.empty()) g_first_civetweb_message = text;  // the first says why
  }
  log_event(LogLevel::kWarn, "http_server_message", {{"detail", text}});
  return 1;  // we logged it
}

Response HttpServer::dispatch(Request& req, mg_connection* conn, std::string* route_label) {
  const std::string given_id = req.header("X-Request-Id");
  const bool bad_id = !given_id.empty() && !valid_request_id(given_id);
  req.request_id = given_id.empty() || bad_id ? next_request_id() : given_id;

  const RouteMatch m = router_.match(req.method, req.path);
  if (m.route >= 0) *route_label = router_.path_template(m.route);
  if (read_body(conn, mg_get_request_info(conn), options_.max_body_bytes, &req.body) ==
      BodyStatus::kTooLarge)
    return problem_response(req, 413, "body-too-large", "Payload Too Large",
                            "the request body is larger than --max-body (" +
                                std::to_string(options_.max_body_bytes) + " bytes)");
  if (bad_id)
    return problem_response(req, 400, "bad-request-id", "Bad Request",
                            "X-Request-Id must be 1..200 printable ASCII characters without "
                            "spaces");
  if (m.route < 0) {
    if (m.allowed_methods.empty())
      return problem_response(req, 404, "not-found", "Not Found",
                              "no route for " + req.method + " " + req.path);
    std::string allow;
    for (const auto& method : m.allowed_methods) allow += (allow.empty() ? "" : ", ") + method;
    Response r = problem_response(
        req, 405, "method-not-allowed", "Method Not Allowed",
        req.method + " is not allowed on " + req.path + " (allowed: " + allow + ")");
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  req.route = router_.path_template(m.route);
  req.params = m.params;
  const auto index = static_cast<size_t>(m.route);
  if (is_control_[index]) return handlers_[index](req);
  const int max_business = std::max(1, options_.threads - kThreadsKeptFree);
  if (business_in_flight_.fetch_add(1) >= max_business) {
    business_in_flight_.fetch_sub(1);
    Response r = problem_response(req, 503, "overloaded", "Service Unavailable",
                                  "every server thread for business requests is busy (--threads "
                                  "minus " +
                                      std::to_string(kThreadsKeptFree) +
                                      " kept free for health, metrics and fault control)");
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  struct Release {
    std::atomic<int>& n;
    ~Release() { n.fetch_sub(1); }
  } release{business_in_flight_};
  return handlers_[index](req);
}

void HttpServer::handle(mg_connection* conn) {
  const auto start = std::chrono::steady_clock::now();
  metrics_.http_in_flight.Increment();
  busy_threads_.Increment();

  const mg_request_info* ri = mg_get_request_info(conn);
  Request req;
  req.method = ri->request_method ? ri->request_method : "";
  req.path = ri->local_uri ? ri->local_uri : (ri->request_uri ? ri->request_uri : "/");
  req.query = ri->query_string ? ri->query_string : "";
  req.remote_addr = ri->remote_addr;
  for (int i = 0; i < ri->num_headers; ++i)
    req.headers.emplace_back(ri->http_headers[i].name ? ri->http_headers[i].name : "",
                             ri->http_headers[i].value ? ri->http_headers[i].value : "");
  req.trace_id = std::string(trace_id_of(req.header("traceparent")));

  std::string route_label = "unmatched";
  Response resp;
  try {
    resp = dispatch(req, conn, &route_label);
  } catch (const std::exception& e) {
    resp = problem_response(req, 500, "internal", "Internal Server Error", e.what());
  }
  write_all(conn, response_head(conn, resp, req.request_id), resp.body);

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string status = std::to_string(resp.status);
  const std::string method(method_label(req.method));
  metrics_.http_request_duration.with({route_label, method, status}).Observe(seconds);
  metrics_.http_requests.with({route_label, method, status}).Increment();
  busy_threads_.Decrement();
  metrics_.http_in_flight.Decrement();

  // request_id stays the first field (tests and people grep "event=request request_id=...");
  // trace_id is added, last, only when the request carried a valid traceparent.
  std::vector<LogField> fields;
  if (options_.access_log && resp.status < 400) {
    fields = {{"request_id", req.request_id},
              {"method", req.method},
              {"route", route_label},
              {"status", status},
              {"ms", std::to_string(static_cast<int64_t>(seconds * 1000))}};
    if (!req.trace_id.empty()) fields.push_back({"trace_id", req.trace_id});
    log_event(LogLevel::kInfo, "request", fields);
  }
  if (resp.status >= 400 && !resp.quiet) {
    fields = {{"request_id", req.request_id},
              {"method", req.method},
              {"path", req.path},
              {"status", status},
              {"detail", resp.log_detail}};
    if (!req.trace_id.empty()) fields.push_back({"trace_id", req.trace_id});
    log_event(resp.status >= 500 ? LogLevel::kWarn : LogLevel::kInfo,
              resp.status >= 500 ? "request_failed" : "request_rejected", fields);
  }
}

}  // namespace faultline::demo
