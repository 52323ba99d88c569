// Integration tests of the open-loop load engine against an in-process HTTP server on
// 127.0.0.1. They assert counts and inequalities with wide margins, never exact timings.
#include "run/load_engine.h"

#include <doctest/doctest.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "proc/child_process.h"
#include "test_http_server.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::TestHttpServer;

// A copy of a RequestSample that owns its request id.
struct Recorded {
  uint64_t seq;
  std::string request_id;
  uint32_t route;
  int64_t intended_us, sent_us, latency_us;
  int status;
  std::string error_class;
  uint64_t bytes_in, bytes_out;
};

class RecordingSink : public SampleSink {
 public:
  void on_sample(const RequestSample& s) override {
    samples.push_back(Recorded{s.seq, std::string(s.request_id), s.route, s.intended_us, s.sent_us,
                               s.latency_us, s.status, std::string(s.error_class), s.bytes_in,
                               s.bytes_out});
  }
  size_t count(const std::string& error_class) const {
    return static_cast<size_t>(std::count_if(samples.begin(), samples.end(), [&](const auto& r) {
      return r.error_class == error_class;
    }));
  }
  std::vector<Recorded> samples;  // read after finish(), which joins the loop thread
};

class VectorSource : public RequestSource {
 public:
  explicit VectorSource(std::vector<PlannedRequest> requests) : requests_(std::move(requests)) {}
  bool next(PlannedRequest& out) override {
    if (next_ == requests_.size()) return false;
    out = requests_[next_++];
    return true;
  }

 private:
  std::vector<PlannedRequest> requests_;
  size_t next_ = 0;
};

// `count` GETs of `url`, one every `interval` from plan time `first`.
std::vector<PlannedRequest> constant_rate(const std::string& url, size_t count, Duration interval,
                                          Duration first = Duration(0)) {
  std::vector<PlannedRequest> out(count);
  for (size_t i = 0; i < count; ++i) {
    out[i].seq = i;
    out[i].intended = first + interval * static_cast<int64_t>(i);
    out[i].route = static_cast<uint32_t>(i % 3);
    out[i].url = url;
    out[i].request_id = "req-" + std::to_string(i);
  }
  return out;
}

int64_t us_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::microseconds>(b - a).count();
}

LoadRunResult run_to_end(LoadEngine& engine, std::vector<PlannedRequest> plan,
                         RecordingSink& sink) {
  VectorSource source(std::move(plan));
  engine.start(Clock::now() + 20ms, source, sink);
  REQUIRE(engine.wait_traffic_done(30s));
  return engine.finish();
}

TEST_CASE("every arrival gets exactly one sample, sent at or after its intended time") {
  TestHttpServer server;
  LoadEngineOptions options;
  options.max_in_flight = 64;
  options.max_connections = 16;  // the test server holds a thread per keep-alive connection
  LoadEngine engine(options);
  RecordingSink sink;
  const auto result = run_to_end(engine, constant_rate(server.url("/fast"), 300, 1ms), sink);

  const auto& c = result.counters;
  CHECK(c.arrivals == 300);
  CHECK(sink.samples.size() == 300);
  CHECK(c.sent + c.dropped == c.arrivals);
  CHECK(c.completed == c.sent);
  CHECK(c.in_flight == 0);
  CHECK(sink.count("dropped") == c.dropped);
  CHECK_FALSE(result.stopped_early);
  std::set<uint64_t> seqs;
  for (const auto& s : sink.samples) {
    seqs.insert(s.seq);
    CHECK(s.request_id == "req-" + std::to_string(s.seq));
    CHECK(s.route == s.seq % 3);
    CHECK(s.intended_us == static_cast<int64_t>(s.seq) * 1000);
    CHECK(s.sent_us >= s.intended_us);  // never early
    if (s.error_class.empty()) {
      CHECK(s.status == 200);
      CHECK(s.latency_us >= s.sent_us - s.intended_us);
      CHECK(s.bytes_in > 0);
      CHECK(s.bytes_out > 0);
    }
  }
  CHECK(seqs.size() == 300);
  // Nothing here should fail on loopback with 64 slots for a fast endpoint.
  // Drops only if the (shared, busy) machine stalls the server for 64 ms; errors never.
  CHECK(sink.count("") + sink.count("dropped") == 300);
}

TEST_CASE("several loop threads share the arrivals by source and never call the sink at once") {
  TestHttpServer server;
  LoadEngineOptions options;
  options.threads = 3;
  options.max_in_flight = 48;  // 16 per loop
  options.max_connections = 12;
  LoadEngine engine(options);
  // Records which thread delivered each sample, and whether two calls ever overlapped.
  struct ThreadSink : SampleSink {
    void on_sample(const RequestSample& s) override {
      if (inside.exchange(true)) overlapped = true;
      by_seq[s.seq] = {std::this_thread::get_id(), std::string(s.url), s.phase,
                       std::string(s.error_class)};
      std::this_thread::yield();  // widen the window an overlap would need
      inside = false;
    }
    struct Seen {
      std::thread::id thread;
      std::string url;
      uint32_t phase;
      std::string error_class;
    };
    std::atomic<bool> inside{false};
    bool overlapped = false;
    std::map<uint64_t, Seen> by_seq;
  } sink;
  // Partition by seq % 3, as ArrivalSource does; phase and URL ride along into the sample.
  std::vector<std::vector<PlannedRequest>> parts(3);
  for (auto& r : constant_rate(server.url("/fast"), 300, 1ms)) {
    r.phase = static_cast<uint32_t>(r.seq / 100);
    r.url += "?n=" + std::to_string(r.seq);
    parts[r.seq % 3].push_back(r);
  }
  VectorSource a(parts[0]), b(parts[1]), c(parts[2]);
  engine.start(Clock::now(), {&a, &b, &c}, sink);
  REQUIRE(engine.wait_traffic_done(20s));
  const auto result = engine.finish();

  CHECK(result.counters.arrivals == 300);
  CHECK(result.counters.sent + result.counters.dropped == 300);
  CHECK(result.counters.completed == result.counters.sent);
  CHECK_FALSE(sink.overlapped);
  REQUIRE(sink.by_seq.size() == 300);
  std::map<uint64_t, std::set<std::thread::id>> threads_of_part;
  for (const auto& [seq, seen] : sink.by_seq) {
    threads_of_part[seq % 3].insert(seen.thread);
    CHECK(seen.phase == seq / 100);
    CHECK(seen.url == server.url("/fast") + "?n=" + std::to_string(seq));
    CHECK((seen.error_class.empty() || seen.error_class == "dropped"));
  }
  std::set<std::thread::id> loops;
  for (const auto& [part, ids] : threads_of_part) {
    CHECK(ids.size() == 1);  // one source, one loop thread
    loops.insert(ids.begin(), ids.end());
  }
  CHECK(loops.size() == 3);
  CHECK(loops.count(std::this_thread::get_id()) == 0);
}

TEST_CASE("request id, method, headers and body reach the server on reused handles") {
  TestHttpServer server;
  LoadEngineOptions options;
  options.max_in_flight = 1;  // one easy handle serves every method in turn
  LoadEngine engine(options);
  RecordingSink sink;
  const std::vector<std::string> methods = {"GET",    "POST", "PUT",  "GET",
                                            "DELETE", "HEAD", "POST", "GET"};
  std::vector<PlannedRequest> plan = constant_rate(server.url("/echo"), 2 * methods.size(), 50ms);
  for (size_t i = 0; i < plan.size(); ++i) {
    plan[i].method = methods[i % methods.size()];
    if (plan[i].method == "POST" || plan[i].method == "PUT")
      plan[i].body = std::string(100 + i, 'x');
    plan[i].headers = {"X-Test: " + std::to_string(i)};
  }
  const auto result = run_to_end(engine, plan, sink);
  // An arrival due while the previous one is still out is dropped (one slot): check the others.
  CHECK(result.counters.sent >= plan.size() / 2);

  const auto received = server.received();
  CHECK(received.size() == result.counters.sent);
  std::map<std::string, test::ReceivedRequest> by_id;
  for (const auto& r : received) by_id[r.request_id] = r;
  for (const auto& s : sink.samples) {
    if (s.error_class == "dropped") continue;
    const PlannedRequest& p = plan[s.seq];
    INFO("request " << p.request_id << " " << p.method);
    CHECK(s.error_class == "");
    CHECK(s.status == 200);
    CHECK(s.bytes_out >= p.body.size());
    REQUIRE(by_id.count(p.request_id) == 1);
    CHECK(by_id[p.request_id].method == p.method);
    CHECK(by_id[p.request_id].body_bytes == p.body.size());
  }
}

TEST_CASE("latency counts from the intended time through a server stall") {
  TestHttpServer server;
  LoadEngineOptions options;
  options.max_in_flight = 200;
  options.max_connections = 2;  // requests due during the stall wait for a connection
  LoadEngine engine(options);
  RecordingSink sink;
  VectorSource source(constant_rate(server.url("/stall"), 60, 10ms));
  const auto origin = Clock::now() + 50ms;
  const int64_t stall_from_us = 100'000, stall_until_us = 400'000;
  server.set_stall(origin + std::chrono::microseconds(stall_from_us),
                   origin + std::chrono::microseconds(stall_until_us));
  engine.start(origin, source, sink);
  REQUIRE(engine.wait_traffic_done(30s));
  const auto result = engine.finish();

  REQUIRE(sink.samples.size() == 60);
  CHECK(result.counters.dropped == 0);
  size_t in_stall = 0, sent_after_stall = 0;
  for (const auto& s : sink.samples) {
    CHECK(s.status == 200);
    if (s.intended_us < stall_from_us || s.intended_us >= stall_until_us) continue;
    ++in_stall;
    INFO("seq " << s.seq << " intended " << s.intended_us << " sent " << s.sent_us);
    // No answer could come before the stall ended, whenever the request was sent.
    CHECK(s.latency_us >= stall_until_us - s.intended_us);
    if (s.sent_us >= stall_until_us) {
      ++sent_after_stall;
      // Measured from its late send it would look fast; from the intended time it does not.
      CHECK(s.latency_us >= s.sent_us - s.intended_us);
    }
  }
  CHECK(in_stall == 30);
  CHECK(sent_after_stall > 0);  // the stall did delay sends (only two connections)
}

TEST_CASE("max_in_flight drops due arrivals and reports every one") {
  TestHttpServer server;
  LoadEngineOptions options;
  options.max_in_flight = 2;
  LoadEngine engine(options);
  RecordingSink sink;
  const auto result = run_to_end(engine, constant_rate(server.url("/slow?ms=300"), 20, 10ms), sink);

  const auto& c = result.counters;
  CHECK(sink.samples.size() == 20);
  CHECK(c.arrivals == 20);
  CHECK(c.sent + c.dropped == 20);
  CHECK(c.sent >= 2);
  CHECK(c.dropped >= 10);  // 20 arrivals in 190 ms, each sent one holds a slot for 300 ms
  CHECK(sink.count("dropped") == c.dropped);
  CHECK(sink.count("") == c.sent);
  CHECK(server.peak_concurrency() <= 2);
  CHECK(server.received().size() == c.sent);
  for (const auto& s : sink.samples)
    if (s.error_class == "dropped") CHECK(s.status == 0);
}

TEST_CASE("a request slower than the timeout ends with error_class timeout") {
  TestHttpServer server;
  LoadEngineOptions options;
  options.request_timeout = 200ms;
  LoadEngine engine(options);
  RecordingSink sink;
  const auto result = run_to_end(engine, constant_rate(server.url("/slow?ms=3000"), 3, 5ms), sink);

  CHECK(result.counters.errors == 3);
  REQUIRE(sink.samples.size() == 3);
  for (const auto& s : sink.samples) {
    CHECK(s.error_class == "timeout");
    CHECK(s.latency_us >= 195'000);   // curl's timers have millisecond resolution
    CHECK(s.latency_us < 2'500'000);  // well before the server would have answered
  }
}

TEST_CASE("a refused connection ends with error_class refused") {
  const int closed_port = pick_free_port();  // nothing listens there
  LoadEngine engine;
  RecordingSink sink;
  const auto result = run_to_end(
      engine, constant_rate("http://127.0.0.1:" + std::to_string(closed_port) + "/", 5, 2ms), sink);
  CHECK(result.counters.errors == 5);
  REQUIRE(sink.samples.size() == 5);
  for (const auto& s : sink.samples) {
    CHECK(s.error_class == "refused");
    CHECK(s.status == 0);
  }
}

TEST_CASE("side requests run beside capped traffic and are not counted as traffic") {
  TestHttpServer server;
  LoadEngineOptions options;
  options.max_in_flight = 1;
  options.max_connections = 1;  // traffic holds the only traffic connection for 600 ms
  LoadEngine engine(options);
  RecordingSink sink;
  VectorSource source(constant_rate(server.url("/slow?ms=600"), 2, 1ms));

  std::mutex m;
  std::vector<SideCompletion> done;
  auto keep = [&](SideCompletion&& c) {
    std::lock_guard<std::mutex> lock(m);
    done.push_back(std::move(c));
  };
  HttpRequest echo;
  echo.url = server.url("/echo");
  echo.headers = {"X-Request-Id: side-1"};
  engine.submit_at(100ms, echo, keep);  // while the traffic request is in flight
  HttpRequest metrics;
  metrics.url = server.url("/fast");
  engine.submit(metrics, keep);
  HttpRequest later = metrics;
  engine.submit_at(1h, later, keep);  // never due: cancelled by finish()

  engine.start(Clock::now() + 10ms, source, sink);
  REQUIRE(engine.wait_traffic_done(30s));
  const auto result = engine.finish();

  CHECK(result.counters.arrivals == 2);
  CHECK(result.counters.sent == 1);  // the second arrival found the only slot busy
  CHECK(result.counters.dropped == 1);
  CHECK(result.counters.side_completed == 2);
  REQUIRE(done.size() == 3);
  std::sort(done.begin(), done.end(), [](const auto& a, const auto& b) {
    return a.response.error_class < b.response.error_class;
  });
  CHECK(done[0].response.status == 200);
  CHECK(done[1].response.status == 200);
  const auto& echoed = done[0].response.body == "GET 0 side-1" ? done[0] : done[1];
  CHECK(echoed.response.body == "GET 0 side-1");
  CHECK(echoed.started_us >= 100'000);
  // Answered while the traffic request still held the capped connection.
  CHECK(echoed.completed_us < 550'000);
  CHECK(done[2].response.error_class == "aborted");

  bool called = false;
  engine.submit(metrics, [&](SideCompletion&& c) {
    called = true;
    CHECK(c.response.error_class == "aborted");
  });
  CHECK(called);  // after finish: at once, on this thread
}

TEST_CASE("early stop drains, then aborts, and accounts for every request in flight") {
  TestHttpServer server;
  LoadEngineOptions options;
  options.stop_drain = 200ms;
  LoadEngine engine(options);
  RecordingSink sink;
  VectorSource source(constant_rate(server.url("/slow?ms=2000"), 1000, 10ms));  // 10 s
  engine.start(Clock::now() + 10ms, source, sink);
  const auto deadline = Clock::now() + 10s;
  while (engine.counters().sent < 10 && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  REQUIRE(engine.counters().sent >= 10);

  const auto stop_at = Clock::now();
  engine.request_stop();
  REQUIRE(engine.wait_traffic_done(5s));
  const int64_t stop_took_us = us_between(stop_at, Clock::now());
  const auto result = engine.finish();

  CHECK(result.stopped_early);
  const auto& c = result.counters;
  CHECK(c.arrivals < 1000);
  CHECK(sink.samples.size() == c.arrivals);
  CHECK(c.sent + c.dropped == c.arrivals);
  CHECK(c.completed == c.sent);
  CHECK(result.aborted >= 10);  // none of them could finish within the 200 ms drain
  CHECK(sink.count("aborted") == result.aborted);
  CHECK(stop_took_us >= 150'000);   // it did wait for the drain
  CHECK(stop_took_us < 1'900'000);  // and did not wait for the server
}

TEST_CASE("early stop with kAbort ends at once and a drain that suffices aborts nothing") {
  TestHttpServer server;
  SUBCASE("abort") {
    LoadEngine engine;
    RecordingSink sink;
    VectorSource source(constant_rate(server.url("/slow?ms=3000"), 1000, 10ms));
    engine.start(Clock::now(), source, sink);
    const auto deadline = Clock::now() + 10s;
    while (engine.counters().sent < 5 && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
    const auto stop_at = Clock::now();
    engine.request_stop(StopMode::kAbort);
    REQUIRE(engine.wait_traffic_done(5s));
    CHECK(us_between(stop_at, Clock::now()) < 1'000'000);
    const auto result = engine.finish();
    CHECK(result.aborted >= 5);
    CHECK(sink.samples.size() == result.counters.arrivals);
  }
  SUBCASE("drain") {
    LoadEngineOptions options;
    options.stop_drain = 5s;
    LoadEngine engine(options);
    RecordingSink sink;
    VectorSource source(constant_rate(server.url("/slow?ms=100"), 1000, 10ms));
    engine.start(Clock::now(), source, sink);
    const auto deadline = Clock::now() + 10s;
    while (engine.counters().sent < 5 && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
    engine.request_stop(StopMode::kDrain);
    REQUIRE(engine.wait_traffic_done(5s));
    const auto result = engine.finish();
    CHECK(result.aborted == 0);
    CHECK(sink.count("") == result.counters.sent);
    CHECK(sink.samples.size() == result.counters.arrivals);
  }
}

TEST_CASE("an exception from the sink ends the run and is rethrown by finish") {
  TestHttpServer server;
  struct ThrowingSink : SampleSink {
    void on_sample(const RequestSample&) override { throw std::runtime_error("sink failed"); }
  } sink;
  LoadEngine engine;
  VectorSource source(constant_rate(server.url("/fast"), 1000, 1ms));
  engine.start(Clock::now(), source, sink);
  REQUIRE(engine.wait_traffic_done(10s));
  CHECK_THROWS_WITH(engine.finish(), "sink failed");
  CHECK(engine.counters().arrivals < 1000);  // ended at the first sample, not at the end
}

TEST_CASE("the timeout counts from dispatch, including the wait for a free connection") {
  TestHttpServer server;
  LoadEngineOptions options;
  options.max_connections = 1;
  options.request_timeout = 300ms;
  LoadEngine engine(options);
  RecordingSink sink;
  const auto result = run_to_end(engine, constant_rate(server.url("/slow?ms=5000"), 4, 1ms), sink);
  CHECK(result.counters.errors == 4);
  for (const auto& s : sink.samples) {
    CHECK(s.error_class == "timeout");
    CHECK(s.latency_us >= 295'000);  // curl's timers have millisecond resolution
    // Had the wait for the one connection not counted, they would end about 300 ms apart.
    CHECK(s.latency_us < 550'000);
  }
}

TEST_CASE("connections the server closed while idle are replaced without a busy loop") {
  TestHttpServer server(64, /*keep_alive_ms=*/150);
  LoadEngine engine;
  RecordingSink sink;
  auto plan = constant_rate(server.url("/fast"), 10, 10ms);
  for (size_t i = 5; i < plan.size(); ++i) plan[i].intended += 900ms;  // a pause after 5
  VectorSource source(plan);
  engine.start(Clock::now() + 10ms, source, sink);
  const auto deadline = Clock::now() + 10s;
  while (engine.counters().completed < 5 && Clock::now() < deadline)
    std::this_thread::sleep_for(2ms);
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  const auto pause_start = Clock::now();
  while (engine.counters().arrivals < 6 && Clock::now() < deadline)
    std::this_thread::sleep_for(2ms);
  getrusage(RUSAGE_SELF, &after);
  const int64_t pause_us = us_between(pause_start, Clock::now());
  REQUIRE(engine.wait_traffic_done(10s));
  engine.finish();

  REQUIRE(sink.samples.size() == 10);
  for (const auto& s : sink.samples) CHECK(s.status == 200);
  // The closed connections' events must not keep the loop spinning through the pause.
  const auto cpu_us = [](const rusage& r) {
    return int64_t{r.ru_utime.tv_sec} * 1'000'000 + r.ru_utime.tv_usec +
           int64_t{r.ru_stime.tv_sec} * 1'000'000 + r.ru_stime.tv_usec;
  };
  CHECK(pause_us > 500'000);
  CHECK(cpu_us(after) - cpu_us(before) < pause_us / 2);
}

}  // namespace
}  // namespace faultline
