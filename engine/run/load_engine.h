// The open-loop HTTP load engine: sends planned requests at their intended times over libcurl
// multi on one event-loop thread and reports one sample per arrival.
//
// Open loop: an arrival is sent when its intended time comes, whether or not earlier requests
// have answered, and its latency is measured from the intended time, so a stalled server cannot
// hide its stall (coordinated omission, as wrk2 corrects it). When `max_in_flight` requests are
// already outstanding, a due arrival is not sent: it is counted as dropped and still produces a
// sample (error_class "dropped"). Every arrival gets exactly one sample; nothing is skipped.
//
// The same loop runs side requests (metrics scrapes, fault-control calls) on a second, uncapped
// multi handle, so they never queue behind traffic for a connection and are never counted as
// traffic or limited by `max_in_flight`.
//
// Threads: start() launches `threads` loop threads (LoadEngineOptions), each with its own epoll
// and multi handle and its own request source, so a machine's cores can share the traffic. Loop
// k pulls only from sources[k]; side requests run on loop 0. A source and the side-request
// callbacks are called on their loop's thread only. The sink is called from every loop thread,
// but never concurrently: with more than one loop the engine serializes its calls. submit*,
// request_stop, counters and wait_traffic_done may be called from any thread; request_stop is
// also async-signal-safe (a SIGINT handler may call it).
//
// This header is independent of the plan types and keeps libcurl out of its includers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/units.h"
#include "net/http_call.h"

namespace faultline {

using SteadyTime = std::chrono::steady_clock::time_point;

// One request of the arrival stream.
struct PlannedRequest {
  uint64_t seq = 0;
  Duration intended{0};  // intended send time, since the run's origin (plan time 0)
  uint32_t route = 0;    // caller's route index, copied into the sample
  uint32_t phase = 0;    // caller's phase index, copied into the sample
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::string request_id;  // sent as the request id header (LoadEngineOptions) unless empty
  // JSON pointer of the acknowledged id in a 2xx JSON body ("/order_id"), or empty: the body is
  // then discarded unread. Must outlive the request (the plan's route holds it).
  std::string_view ack_pointer;
};

// Pull-based arrival stream, so an hour-long schedule never sits in memory. The engine reads at
// most one request ahead of the clock.
class RequestSource {
 public:
  virtual ~RequestSource() = default;
  // Fills `out` with the next request and returns true, or returns false at the end of the
  // stream. `out` holds a request the engine is done with: assign into its strings and vectors
  // rather than replacing them, and their storage is reused (no allocation per request once
  // warm). REQUIRES: intended times never decrease. Called on the loop thread.
  virtual bool next(PlannedRequest& out) = 0;
};

// What happened to one arrival. Times are microseconds since the origin.
struct RequestSample {
  uint64_t seq = 0;
  std::string_view request_id;  // valid only during SampleSink::on_sample
  uint32_t route = 0;
  uint32_t phase = 0;
  std::string_view url;  // as requested; valid only during SampleSink::on_sample
  int64_t intended_us = 0;
  // When the request went onto a connection (established or reused) just before its bytes were
  // written; if that never happened (dropped, refused, timed out while connecting, aborted
  // before a connection was free), when the engine handed it to curl or dropped it.
  // sent_us - intended_us is the send lateness.
  int64_t sent_us = 0;
  // When the outcome was known (response complete, error, drop decision, abort) minus
  // intended_us. Never measured from sent_us.
  int64_t latency_us = 0;
  int status = 0;  // HTTP status if a status line arrived, else 0
  // "" (a response arrived), "timeout", "refused", "reset", "dns", "other", "dropped",
  // "aborted" (in flight when a stop ended the run). Refers to a static string.
  std::string_view error_class;
  uint64_t bytes_in = 0;   // response headers and body as received
  uint64_t bytes_out = 0;  // request as sent (curl's CURLINFO_REQUEST_SIZE)
  // With an ack_pointer: the id at it in a 2xx JSON body of at most kMaxAckBodyBytes, as text
  // (a string as it is, a number in decimal); else "". Valid only during on_sample.
  std::string_view ack_id;
  // An HTTP error's problem+json type and title (observe::problem_of); valid only during
  // on_sample.
  std::string_view problem;
};

// The largest response body searched for an acknowledged id; a larger one gives no id.
inline constexpr size_t kMaxAckBodyBytes = 64 * 1024;

class SampleSink {
 public:
  virtual ~SampleSink() = default;
  // Called on a loop thread, once per arrival, in completion order within that loop, one call
  // at a time. Keep it short: the loop does not send while it runs. An exception ends the run
  // (see LoadEngine::finish).
  virtual void on_sample(const RequestSample& sample) = 0;
};

// Outcome of a side request, delivered on the loop thread.
struct SideCompletion {
  HttpResponse response;     // status, body, headers, error, error_class, elapsed
  int64_t started_us = 0;    // when it was handed to curl, since the origin
  int64_t completed_us = 0;  // when the outcome was known, since the origin
};
using SideCallback = std::function<void(SideCompletion&&)>;

struct LoadEngineOptions {
  // Event loops, each on its own thread with its own connections. max_in_flight and
  // max_connections are shared out among them (each loop gets at least 1).
  uint32_t threads = 1;
  uint32_t max_in_flight = 1024;  // outstanding traffic requests; a due arrival beyond is dropped
  // Traffic connections, per host and in total (CURLMOPT_MAX_HOST_CONNECTIONS and
  // MAX_TOTAL_CONNECTIONS, also the connection cache size). 0 means max_in_flight, so every
  // outstanding request has its own connection. Below max_in_flight, requests wait inside the
  // client for a free connection; their latency still counts from the intended time.
  uint32_t max_connections = 0;
  // Per traffic request (CURLOPT_TIMEOUT_MS), counted from when it was handed to curl, so it
  // includes any wait for a free connection.
  Duration request_timeout = std::chrono::seconds(10);
  // After request_stop(kDrain): how long in-flight requests are awaited before being aborted.
  Duration stop_drain = std::chrono::seconds(2);
  long receive_buffer_bytes = 16 * 1024;  // CURLOPT_BUFFERSIZE (large buffers cost CPU)
  // Shortest sleep between two wakeups for arrivals alone: arrivals due closer together than
  // this are sent together, at most this late, instead of one wakeup each. Answers and curl's
  // own timers still wake the loop at once. Latency still counts from the intended time, so
  // the batching shows in send lateness, never hides in latency. Zero wakes for every arrival.
  Duration arrival_batch = std::chrono::microseconds(50);
  std::string request_id_header = "X-Request-Id";
};

// Live progress, readable from any thread. Fields are read one by one, so a snapshot taken
// during the run may be off by a request between fields. Once traffic is done:
// arrivals == sent + dropped and sent == completed.
struct LoadCounters {
  uint64_t arrivals = 0;   // arrivals that came due; each has exactly one sample
  uint64_t sent = 0;       // handed to curl
  uint64_t dropped = 0;    // not sent because max_in_flight was reached
  uint64_t completed = 0;  // sent and finished: response, transport error or aborted
  uint64_t errors = 0;     // completed with an error_class (includes aborted)
  uint64_t in_flight = 0;  // sent - completed
  uint64_t side_completed = 0;
  uint64_t side_in_flight = 0;
};

struct LoadRunResult {
  LoadCounters counters;
  bool stopped_early = false;  // request_stop came while the source still had arrivals
  uint64_t aborted = 0;        // in-flight requests ended by the stop (error_class "aborted")
};

enum class StopMode {
  kDrain,  // send nothing more; await in-flight requests up to stop_drain, then abort them
  kAbort,  // send nothing more; abort in-flight requests now
};

class LoadEngine {
 public:
  explicit LoadEngine(LoadEngineOptions options = {});
  ~LoadEngine();  // finish() if still running, ignoring its exception
  LoadEngine(const LoadEngine&) = delete;
  LoadEngine& operator=(const LoadEngine&) = delete;

  // Starts the loop threads: each arrival is due at origin + intended (an origin in the past
  // makes the first arrivals late, not skipped). Loop k sends what sources[k] hands out. The
  // sources and `sink` must outlive finish().
  // REQUIRES: called once; sources.size() == options.threads.
  void start(SteadyTime origin, const std::vector<RequestSource*>& sources, SampleSink& sink);
  // The same with one loop (options.threads == 1).
  void start(SteadyTime origin, RequestSource& source, SampleSink& sink);

  // Side requests (scrapes, fault calls): not traffic, not limited by max_in_flight. `done` runs
  // once on the loop thread. submit_at runs the request when plan time `at` comes (it may be
  // called before start()). After finish() began, `done` runs at once on the caller's thread
  // with error_class "aborted"; at finish(), requests whose time has not come get the same.
  void submit(HttpRequest request, SideCallback done);
  void submit_at(Duration at, HttpRequest request, SideCallback done);

  // Ends the traffic early: no arrival is sent or pulled any more. Async-signal-safe.
  // kAbort after kDrain upgrades the stop. Side requests keep running until finish().
  void request_stop(StopMode mode = StopMode::kDrain) noexcept;

  // True once every arrival (all of them, or all up to a stop) has its sample.
  bool wait_traffic_done(std::chrono::milliseconds timeout);
  bool traffic_done() const;
  // True once the source, the sink or a callback threw (finish() rethrows it).
  bool failed() const;

  LoadCounters counters() const;

  // Stops the traffic if it is not done (as request_stop(kDrain)), cancels side requests whose
  // time has not come, waits for running side requests (bounded by their timeouts), joins the
  // loop thread and returns the totals. Rethrows an exception thrown by the source, the sink
  // or a callback (which ends the run at once, without further samples). Idempotent.
  // REQUIRES: not called on the loop thread (from the sink or a callback).
  LoadRunResult finish();

 private:
  class Loop;
  class SerializedSink;
  std::vector<std::unique_ptr<Loop>> loops_;  // loops_[0] also runs the side requests
  std::unique_ptr<SerializedSink> serialized_sink_;
};

}  // namespace faultline
