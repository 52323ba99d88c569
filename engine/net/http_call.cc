#include "net/http_call.h"

#include <curl/curl.h>
#include <strings.h>

#include <memory>
#include <mutex>

namespace faultline {

// Appends to the response body up to the request's cap; past it, returning 0 makes curl end
// the transfer with CURLE_WRITE_ERROR, which finish() reports as "too_large".
struct BodySink {
  std::string* body;
  size_t cap;
  bool* over;
};

namespace {

size_t append_body(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const size_t n = size * nmemb;
  if (sink->body->size() + n > sink->cap) {
    *sink->over = true;
    return 0;
  }
  sink->body->append(data, n);
  return n;
}

size_t append_header(char* data, size_t size, size_t nmemb, void* user) {
  auto* headers = static_cast<std::vector<std::string>*>(user);
  std::string line(data, size * nmemb);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  // A new status line starts a new response (after 100-continue or a redirect).
  if (line.rfind("HTTP/", 0) == 0) headers->clear();
  if (!line.empty()) headers->push_back(std::move(line));
  return size * nmemb;
}

}  // namespace

void ensure_curl_initialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& h : headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || colon != name.size()) continue;
    if (strncasecmp(h.data(), name.data(), name.size()) != 0) continue;
    size_t start = colon + 1;
    while (start < h.size() && h[start] == ' ') ++start;
    return h.substr(start);
  }
  return "";
}

std::string_view curl_error_class(int curl_code) {
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_OK:
      return "";
    case CURLE_OPERATION_TIMEDOUT:
      return "timeout";
    case CURLE_COULDNT_CONNECT:
      return "refused";
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
      return "reset";
    case CURLE_COULDNT_RESOLVE_HOST:
      return "dns";
    case CURLE_FILESIZE_EXCEEDED:
      return "too_large";
    default:
      return "other";
  }
}

HttpExchange::HttpExchange(HttpRequest request) : request_(std::move(request)) {
  ensure_curl_initialized();
  CURL* e = curl_easy_init();
  easy_ = e;
  for (const auto& h : request_.headers) header_list_ = curl_slist_append(header_list_, h.c_str());
  curl_easy_setopt(e, CURLOPT_URL, request_.url.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(request_.timeout.count()));
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, request_.method.c_str());
  if (request_.method == "HEAD") curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  if (!request_.body.empty() || request_.method == "POST" || request_.method == "PUT") {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, request_.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request_.body.size()));
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, header_list_);
  body_sink_ = std::make_unique<BodySink>(
      BodySink{&response_.body, request_.max_body_bytes, &body_too_large_});
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, body_sink_.get());
  // A Content-Length over the cap is refused before any byte of the body is read.
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request_.max_body_bytes));
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &append_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &response_.headers);
  // Control-plane calls must never leave the machine by accident through a proxy variable.
  curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
}

HttpExchange::~HttpExchange() {
  curl_easy_cleanup(static_cast<CURL*>(easy_));
  curl_slist_free_all(header_list_);
}

HttpResponse& HttpExchange::finish(int curl_code) {
  CURL* e = static_cast<CURL*>(easy_);
  curl_off_t total_us = 0;
  curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total_us);
  response_.elapsed = std::chrono::microseconds(total_us);
  if (curl_code != CURLE_OK) {
    if (body_too_large_ || curl_code == CURLE_FILESIZE_EXCEEDED) {
      response_.body.clear();
      response_.body.shrink_to_fit();
      response_.error = "response body larger than " + std::to_string(request_.max_body_bytes) +
                        " bytes (the cap; raise it with max_body_bytes)";
      response_.error_class = "too_large";
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &response_.status);
      return response_;
    }
    response_.error = curl_easy_strerror(static_cast<CURLcode>(curl_code));
    response_.error_class = std::string(curl_error_class(curl_code));
    return response_;
  }
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &response_.status);
  return response_;
}

HttpResponse http_call(const HttpRequest& request) {
  HttpExchange exchange(request);
  std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)> multi(curl_multi_init(),
                                                              &curl_multi_cleanup);
  CURL* e = static_cast<CURL*>(exchange.easy_handle());
  curl_multi_add_handle(multi.get(), e);
  int running = 1;
  CURLcode result = CURLE_OK;
  while (running) {
    curl_multi_perform(multi.get(), &running);
    if (running) curl_multi_poll(multi.get(), nullptr, 0, 100, nullptr);
  }
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued))
    if (msg->msg == CURLMSG_DONE) result = msg->data.result;
  curl_multi_remove_handle(multi.get(), e);
  return std::move(exchange.finish(result));
}

}  // namespace faultline
