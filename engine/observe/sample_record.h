// SampleRecord: what the client saw of one planned request. One per arrival of the plan,
// including those that could not be sent (dropped at max_in_flight). Streamed to the sample
// log (sample_log.h), summarised in ClientStats (client_stats.h), kept whole in the top-k.
//
// Times are plan time in microseconds (since the start of the first phase). Latency is
// measured from the intended send time, not the actual one, so a stalled server or client
// cannot hide its stall (coordinated omission).
#pragma once

#include <cstdint>
#include <string>

namespace faultline::observe {

struct SampleRecord {
  uint64_t seq = 0;        // arrival sequence number in the plan
  std::string request_id;  // the X-Request-Id sent
  std::string route;       // route name from the spec
  std::string method;
  std::string path;
  int64_t intended_us = 0;  // when the plan wanted it sent
  int64_t sent_us = 0;      // when it was actually sent (== intended_us when dropped)
  int64_t latency_us = 0;   // completion minus intended time (0 when dropped)
  int status = 0;           // HTTP status; 0 when no response arrived
  // "" (a response arrived), or why none did: "timeout", "refused", "reset", "dns", "other"
  // (http_call.h's classes), "dropped" (never sent: max_in_flight was reached), or "aborted"
  // (in flight when faultline's own stop ended the run: not the target's doing).
  std::string error_class;
  int64_t bytes_in = 0;   // response bytes received
  int64_t bytes_out = 0;  // request bytes sent
  std::string phase;
  // The id the system acknowledged in a 2xx body (the route's ack_id pointer), as text; ""
  // when the route has no ack_id or the response gave none.
  std::string ack_id;
  // An HTTP error response's RFC 9457 problem, `type "title"` (observe/error_signatures.h
  // problem_of); "" otherwise. Live runs only: the sample log does not record it.
  std::string problem;

  bool dropped() const { return error_class == "dropped"; }
  bool aborted() const { return error_class == "aborted"; }
  // How late the client was in sending it (0 when on time; see RequestSample in
  // run/load_engine.h for what "sent" means).
  int64_t send_lateness_us() const { return sent_us > intended_us ? sent_us - intended_us : 0; }
  friend bool operator==(const SampleRecord&, const SampleRecord&) = default;
};

}  // namespace faultline::observe
