// TcpProxy: a TCP forwarder on 127.0.0.1 in front of one loopback service, which applies
// toxics (toxic.h) to the connections it carries. It is the mechanism behind the `proxy` fault
// kind: a FaultDriver calls set_toxic() when a phase applies the fault and remove_toxic() on
// undo; neither blocks, and wait_applied(0ms) in a later tick() says whether the change is in
// effect on every connection (the confirmation the fault contract asks for).
//
//   client --> 127.0.0.1:port() [TcpProxy] --> upstream host:port (loopback only)
//              "upstream" bytes go right, "downstream" bytes go left.
//
// Event loop: epoll, written out here, on one thread per proxy. Chosen over libuv because
// what the toxics need is precise timers and direct control of reading:
//   - latency and bandwidth are timer problems. The proxy arms one timerfd at the earliest
//     deadline of any connection, with nanosecond resolution, so a +100 ms latency toxic adds
//     100 ms, not 100 ms plus up to a millisecond: libuv 1.44 takes timer timeouts in whole
//     milliseconds against a loop clock cached in milliseconds (uv_now). libevent 2.1 can use
//     a timerfd too (EVENT_BASE_FLAG_PRECISE_TIMER), but then it is the same epoll and timerfd
//     behind a callback API and one more dependency;
//   - backpressure, timeouts and blackholes are "stop reading this socket" (so the kernel
//     buffers fill as they would behind a dead link) and "close with RST" (SO_LINGER 0),
//     one syscall each with epoll; libuv wraps them in uv_read_stop/uv_tcp_close_reset and
//     callbacks, with a uv_write_t per write in flight;
//   - the loop itself is small: one listener, one eventfd to wake it, one timerfd, two
//     sockets per connection, level-triggered (run, update and arm_timer in tcp_proxy.cc).
//     Most of the code is the toxics, which a library would not write for us.
// Linux only, as faultline is.
//
// Semantics (docs/fault-proxy.md has the user-facing version):
//   - Each accepted connection gets an ordinal (0, 1, 2, ... in accept order) and a new
//     connection to the upstream. Toxicity is decided per (toxic, ordinal) by toxic_hits().
//     Clients that connect one after another get ordinals in that order; concurrent connects
//     are numbered in the order the kernel queues them.
//   - Toxic changes (add, update, remove) apply to existing connections too: a removed toxic
//     stops acting at once (held data flows again, delays no longer apply to data that
//     arrives afterwards; chunks already scheduled keep their time), and an added one starts.
//   - The data of one direction passes the toxics in a fixed order, whatever order they were
//     added in: reset_peer (drops the data and arms the reset) > limit_data (truncates) >
//     latency (several latency toxics add up) > slicer (the first by name) > bandwidth (the
//     lowest rate) > slow_close (the longest delay, on the FIN). timeout holds the direction
//     (nothing is read or written; the kernel buffers fill) and closes the connection
//     timeout_ms after it was attached (the earliest, if several). A chunk never overtakes an
//     earlier one: with jitter a chunk leaves no earlier than the one before it.
//   - Byte counts of limit_data and times of timeout count from when the toxic was attached
//     to the connection (added, or the connection accepted); updating a toxic keeps them.
//   - down stops listening (connects are refused: ECONNREFUSED) and closes every connection;
//     removing it listens again on the same port.
//   - A client or upstream that resets its side gets the other side reset too; a FIN is
//     passed on once the data before it has been sent.
//
// Thread-safety: every public member may be called from any thread. Toxic changes are
// validated and recorded at once and applied by the loop thread moments later;
// wait_applied() waits until every change made before it is in effect.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "faults/toxic.h"

namespace faultline {

struct TcpProxyOptions {
  std::string name;  // label of the metrics ("redis"); letters, digits and _-.:/
  // The service behind the proxy: 127.0.0.0/8, ::1 or "localhost" (127.0.0.1). Anything else
  // is refused: faultline never forwards traffic off the machine.
  std::string upstream_host = "127.0.0.1";
  int upstream_port = 0;
  int listen_port = 0;  // on 127.0.0.1; 0 picks a free port (see port())
  uint64_t seed = 0;    // the run's seed: toxicity targeting and jitter/slicer draws
  // Bytes a direction may hold (delayed by latency, paced by bandwidth) before the proxy
  // stops reading its source, so a slow direction pushes back on the sender as a slow link
  // does instead of buffering without bound.
  size_t max_held_bytes_per_direction = 4 << 20;
};

// Counters since the proxy started.
struct TcpProxyCounters {
  uint64_t connections_accepted = 0;
  uint64_t connections_active = 0;
  uint64_t upstream_connect_failures = 0;  // connections closed because the upstream refused
  uint64_t bytes_upstream = 0;             // bytes written to the upstream
  uint64_t bytes_downstream = 0;           // bytes written to clients
};

class TcpProxy {
 public:
  // Binds 127.0.0.1:listen_port, listens, and starts the loop thread. Throws UsageError for an
  // upstream that is not loopback or an invalid name or port, EnvironmentError when the port
  // cannot be bound.
  explicit TcpProxy(TcpProxyOptions options);
  // stop().
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  const std::string& name() const { return options_.name; }
  int port() const { return port_; }  // the listening port on 127.0.0.1
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Adds a toxic. Throws std::invalid_argument when toxic_problem() finds one or the name is
  // taken.
  void add_toxic(const Toxic& toxic);
  // Replaces the toxic of the same name (type, direction, toxicity, attributes). Throws
  // std::invalid_argument when it is invalid or no toxic has that name.
  void update_toxic(const Toxic& toxic);
  // Adds the toxic, or replaces the one of the same name.
  void set_toxic(const Toxic& toxic);
  // Removes a toxic; false when none has that name.
  bool remove_toxic(std::string_view name);
  void remove_all_toxics();
  // The toxics in effect (as last set), by name.
  std::vector<Toxic> toxics() const;

  // Waits until every toxic change made before the call acts on every connection (and a down
  // proxy has closed its listener). False on timeout, or when the proxy is stopped.
  bool wait_applied(std::chrono::milliseconds timeout);

  TcpProxyCounters counters() const;
  // Connections a toxic of this name has affected since the proxy started (counted once per
  // connection, when the toxic is attached to it and its toxicity hits).
  uint64_t connections_affected(std::string_view toxic_name) const;
  // An error the loop met that the caller cannot see otherwise (listening again after `down`
  // failed, the loop stopped on an unexpected error), or "".
  std::string last_error() const;

  // The counters as a Prometheus text exposition (format 0.0.4), every series labelled
  // proxy="<name>":
  //   faultline_proxy_connections_accepted_total, faultline_proxy_connections_active,
  //   faultline_proxy_upstream_connect_failures_total,
  //   faultline_proxy_bytes_total{direction="upstream"|"downstream"},
  //   faultline_proxy_down (1 while a down toxic is set),
  //   faultline_proxy_toxic_active{toxic,type,direction} (1 per toxic set now),
  //   faultline_proxy_toxic_connections_affected_total{toxic} (every toxic ever set).
  std::string metrics_text() const;

  // Closes the listener and every connection, and joins the loop thread: afterwards the proxy
  // holds no thread and no file descriptor. Idempotent.
  void stop();

 private:
  class Loop;

  struct ToxicRecord {
    Toxic toxic;
    bool active = false;  // removed toxics keep their counter for metrics_text()
    uint64_t connections_affected = 0;
  };

  void change_toxics(const std::function<void()>& edit);
  void wake_loop();

  TcpProxyOptions options_;
  int port_ = 0;

  // Shared with the loop thread.
  mutable std::mutex mutex_;
  std::condition_variable applied_cv_;
  std::map<std::string, ToxicRecord, std::less<>> toxics_;  // guarded by mutex_
  uint64_t toxics_version_ = 0;                             // guarded by mutex_
  uint64_t applied_version_ = 0;                            // guarded by mutex_
  bool loop_done_ = false;                                  // guarded by mutex_
  std::string last_error_;                                  // guarded by mutex_

  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> active_{0};
  std::atomic<uint64_t> connect_failures_{0};
  std::atomic<uint64_t> bytes_upstream_{0};
  std::atomic<uint64_t> bytes_downstream_{0};

  std::unique_ptr<Loop> loop_;
  std::thread thread_;
  std::mutex stop_mutex_;
  bool stopped_ = false;  // guarded by stop_mutex_
};

}  // namespace faultline
