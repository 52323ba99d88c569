// One reusable traffic transfer of the load engine (private): an easy handle kept for the whole
// run, so connections, buffers and option state are reused, plus the storage curl reads while
// the request is in flight (URL, body, header list). Preparing a request sets only the options
// that changed since this handle's previous request, and the header list is built from nodes
// and strings owned here, so a warm transfer prepares a request without allocating.
//
// Thread-safety: the loop thread only.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <string>
#include <vector>

#include "run/load_engine.h"

namespace faultline {

class LoadTransfer {
 public:
  using Clock = std::chrono::steady_clock;

  LoadTransfer(const LoadEngineOptions& options, uint32_t index);
  ~LoadTransfer();
  LoadTransfer(const LoadTransfer&) = delete;
  LoadTransfer& operator=(const LoadTransfer&) = delete;

  CURL* easy() const { return easy_; }
  uint32_t index() const { return index_; }
  PlannedRequest& request() { return request_; }

  // Takes `next` (by swapping: `next` gets this transfer's previous request storage back) and
  // points the easy handle at it. `dispatched` is when it is handed to curl.
  void prepare(PlannedRequest& next, Clock::time_point dispatched);

  // When the request went onto a connection, or the dispatch time if it never did.
  Clock::time_point sent() const { return on_connection_ ? on_connection_at_ : dispatched_; }

  // Fills `sample` from the finished transfer (status, bytes, error class and times, and the
  // acknowledged id when the request has an ack_pointer; sample.ack_id points into this
  // transfer until its next request).
  void fill_sample(RequestSample& sample, std::string_view error_class, Clock::time_point origin,
                   Clock::time_point finished);

 private:
  static int on_prerequest(void* self, char*, char*, int, int);
  static size_t keep_body(char* data, size_t size, size_t nmemb, void* self);
  // The id at request_.ack_pointer in body_, as text, into ack_id_; false when there is none.
  bool extract_ack_id();

  CURL* easy_;
  uint32_t index_;
  const std::string& request_id_header_;
  PlannedRequest request_;
  std::string id_line_;                   // "X-Request-Id: <id>"
  std::vector<curl_slist> header_nodes_;  // our own list nodes: curl only reads them
  std::string applied_url_, applied_method_ = "GET";
  bool applied_body_ = false;
  // Routes with an ack_id keep their response body (up to kMaxAckBodyBytes) to read it from;
  // every route keeps an HTTP error's body, for its problem+json type and title.
  bool keeping_body_ = false;
  bool body_decided_ = false;  // whether this response's body is kept, decided at its first byte
  bool body_wanted_ = false;
  std::string problem_;
  bool body_over_limit_ = false;
  std::string body_;
  std::string ack_id_;
  Clock::time_point dispatched_{}, on_connection_at_{};
  bool on_connection_ = false;
};

}  // namespace faultline
