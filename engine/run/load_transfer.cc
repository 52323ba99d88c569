#include "run/load_transfer.h"

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <charconv>

#include "common/error.h"
#include "common/json_parse.h"
#include "observe/error_signatures.h"

namespace faultline {

namespace {

// The header that keeps curl from waiting for "100 Continue" before sending a large body.
char no_expect[] = "Expect:";

int64_t micros(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

}  // namespace

LoadTransfer::LoadTransfer(const LoadEngineOptions& options, uint32_t index)
    : easy_(curl_easy_init()), index_(index), request_id_header_(options.request_id_header) {
  if (easy_ == nullptr) throw EnvironmentError("curl_easy_init failed");
  curl_easy_setopt(easy_, CURLOPT_PRIVATE, this);
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);  // signals cost ~13% (ENVIRONMENT-NOTES)
  curl_easy_setopt(easy_, CURLOPT_NOPROXY, "*");  // traffic must never leave via a proxy
  curl_easy_setopt(
      easy_, CURLOPT_TIMEOUT_MS,
      static_cast<long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(options.request_timeout).count()));
  curl_easy_setopt(easy_, CURLOPT_BUFFERSIZE, options.receive_buffer_bytes);
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &LoadTransfer::keep_body);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, static_cast<void*>(this));
  curl_easy_setopt(easy_, CURLOPT_PREREQFUNCTION, &LoadTransfer::on_prerequest);
  curl_easy_setopt(easy_, CURLOPT_PREREQDATA, this);
}

LoadTransfer::~LoadTransfer() {
  curl_easy_cleanup(easy_);
}

int LoadTransfer::on_prerequest(void* self, char*, char*, int, int) {
  auto* t = static_cast<LoadTransfer*>(self);
  t->on_connection_at_ = Clock::now();
  t->on_connection_ = true;
  return CURL_PREREQFUNC_OK;
}

size_t LoadTransfer::keep_body(char* data, size_t size, size_t nmemb, void* self) {
  auto* t = static_cast<LoadTransfer*>(self);
  const size_t n = size * nmemb;
  if (!t->body_decided_) {
    // The status line has arrived before the first body byte: 2xx bodies are kept only for an
    // ack_id, error bodies always (they are small and rare next to the successes).
    long status = 0;
    curl_easy_getinfo(t->easy_, CURLINFO_RESPONSE_CODE, &status);
    t->body_wanted_ = t->keeping_body_ || status >= 400;
    t->body_decided_ = true;
  }
  if (!t->body_wanted_) return n;
  if (t->body_.size() + n > kMaxAckBodyBytes) {
    t->body_over_limit_ = true;  // read on (the latency counts the whole response), keep none
  } else if (!t->body_over_limit_) {
    t->body_.append(data, n);
  }
  return n;
}

bool LoadTransfer::extract_ack_id() {
  if (body_over_limit_ || body_.empty()) return false;
  // The target is not trusted: parse_json is iterative and depth-limited, so a body of 64 KiB
  // of '[' cannot overflow the loop thread's stack.
  rapidjson::Document doc;
  if (!parse_json(body_, &doc)) return false;
  const rapidjson::Pointer pointer(request_.ack_pointer.data(), request_.ack_pointer.size());
  const rapidjson::Value* v = pointer.IsValid() ? pointer.Get(doc) : nullptr;
  if (v == nullptr) return false;
  char buf[32];
  if (v->IsString()) {
    ack_id_.assign(v->GetString(), v->GetStringLength());
  } else if (v->IsInt64()) {
    ack_id_.assign(buf, std::to_chars(buf, buf + sizeof buf, v->GetInt64()).ptr);
  } else if (v->IsUint64()) {
    ack_id_.assign(buf, std::to_chars(buf, buf + sizeof buf, v->GetUint64()).ptr);
  } else {
    return false;  // a fraction, bool, null, object or array is not an id
  }
  return !ack_id_.empty();
}

void LoadTransfer::prepare(PlannedRequest& next, Clock::time_point dispatched) {
  std::swap(request_, next);
  dispatched_ = dispatched;
  on_connection_ = false;
  CURL* e = easy_;
  keeping_body_ = !request_.ack_pointer.empty();
  body_decided_ = false;
  body_wanted_ = false;
  body_.clear();
  body_over_limit_ = false;
  if (request_.url != applied_url_) {
    curl_easy_setopt(e, CURLOPT_URL, request_.url.c_str());  // curl copies it
    applied_url_ = request_.url;
  }
  const bool has_body =
      !request_.body.empty() || request_.method == "POST" || request_.method == "PUT";
  if (has_body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request_.body.size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, request_.body.data());
  } else if (applied_body_) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);  // forget the previous body
  }
  applied_body_ = has_body;
  if (request_.method != applied_method_) {
    const bool plain = request_.method == "GET" || request_.method == "POST";
    curl_easy_setopt(e, CURLOPT_NOBODY, request_.method == "HEAD" ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, plain ? nullptr : request_.method.c_str());
    applied_method_ = request_.method;
  }

  // Header list: the request's headers, the request id, and "Expect:" with a body.
  const size_t count =
      request_.headers.size() + (request_.request_id.empty() ? 0 : 1) + (has_body ? 1 : 0);
  header_nodes_.resize(count);
  size_t i = 0;
  for (auto& h : request_.headers) header_nodes_[i++].data = h.data();
  if (!request_.request_id.empty()) {
    id_line_.assign(request_id_header_).append(": ").append(request_.request_id);
    header_nodes_[i++].data = id_line_.data();
  }
  if (has_body) header_nodes_[i++].data = no_expect;
  for (size_t k = 0; k < count; ++k)
    header_nodes_[k].next = k + 1 < count ? &header_nodes_[k + 1] : nullptr;
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, count == 0 ? nullptr : header_nodes_.data());
}

void LoadTransfer::fill_sample(RequestSample& sample, std::string_view error_class,
                               Clock::time_point origin, Clock::time_point finished) {
  long status = 0;
  curl_off_t body_in = 0;
  long header_in = 0, request_out = 0;
  curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(easy_, CURLINFO_SIZE_DOWNLOAD_T, &body_in);
  curl_easy_getinfo(easy_, CURLINFO_HEADER_SIZE, &header_in);
  curl_easy_getinfo(easy_, CURLINFO_REQUEST_SIZE, &request_out);
  sample.seq = request_.seq;
  sample.request_id = request_.request_id;
  sample.route = request_.route;
  sample.phase = request_.phase;
  sample.url = request_.url;
  sample.intended_us = request_.intended.count();
  sample.sent_us = micros(sent() - origin);
  sample.latency_us = micros(finished - origin) - sample.intended_us;
  sample.status = static_cast<int>(status);
  sample.error_class = error_class;
  sample.bytes_in = static_cast<uint64_t>(body_in) + static_cast<uint64_t>(header_in);
  sample.bytes_out = static_cast<uint64_t>(request_out);
  sample.ack_id = {};
  if (keeping_body_ && error_class.empty() && status >= 200 && status < 300 && extract_ack_id())
    sample.ack_id = ack_id_;
  problem_.clear();
  if (body_wanted_ && !body_over_limit_ && error_class.empty() && status >= 400) {
    char* content_type = nullptr;
    curl_easy_getinfo(easy_, CURLINFO_CONTENT_TYPE, &content_type);
    problem_ = observe::problem_of(content_type ? content_type : "", body_);
  }
  sample.problem = problem_;
}

}  // namespace faultline
