// TcpProxy on real loopback sockets: a client, the proxy, and an echo server standing for the
// service. Each toxic's observable effect, its direction, deterministic toxicity, changes on
// open connections, metrics, and a clean stop. Every wait is a poll() with a deadline; the
// only fixed waits are the windows in which a test asserts that nothing happens (a held
// connection stays silent), and they are short.
#include <doctest/doctest.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <set>
#include <thread>

#include "common/error.h"
#include "faults/tcp_proxy.h"
#include "observe/metrics_text_parser.h"
#include "proxy_test_peers.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;
using testing::connect_loopback;
using testing::EchoServer;
using testing::Ending;
using testing::ms_between;
using testing::receive;
using testing::send_all;
using testing::Socket;
using testing::wait_end;
using Clock = std::chrono::steady_clock;

// Upper bounds of timing checks leave room for a loaded two-core machine; lower bounds are
// exact, since the proxy never delivers early.
constexpr double kSlackMs = 150;

TcpProxyOptions options_for(const EchoServer& echo, uint64_t seed = 1) {
  TcpProxyOptions o;
  o.name = "echo";
  o.upstream_port = echo.port();
  o.seed = seed;
  return o;
}

Toxic toxic(std::string name, ToxicType type, ToxicDirection direction) {
  Toxic t;
  t.name = std::move(name);
  t.type = type;
  t.direction = direction;
  return t;
}

void set_and_wait(TcpProxy& proxy, const Toxic& t) {
  proxy.set_toxic(t);
  REQUIRE(proxy.wait_applied(2s));
}

// One request/response through the proxy; the milliseconds it took (-1 on failure).
double round_trip_ms(const Socket& s, const std::string& payload) {
  const auto start = Clock::now();
  send_all(s, payload);
  const auto r = receive(s, payload.size(), 5s);
  if (r.bytes != payload) return -1;
  return ms_between(start, r.last_at);
}

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

TEST_CASE("a proxy without toxics forwards both ways and counts connections and bytes") {
  EchoServer echo;
  TcpProxy proxy(options_for(echo));
  CHECK(proxy.port() > 0);
  CHECK(proxy.port() != echo.port());
  for (int i = 0; i < 3; ++i) {
    Socket s = connect_loopback(proxy.port());
    REQUIRE(s.fd() >= 0);
    const std::string data = pattern(100'000 + i);
    send_all(s, data);
    const auto r = receive(s, data.size(), 5s);
    CHECK(r.bytes == data);
  }
  // The third connection may still be closing inside the proxy: wait for it.
  const auto deadline = Clock::now() + 2s;
  while (proxy.counters().connections_active != 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  const TcpProxyCounters c = proxy.counters();
  CHECK(c.connections_accepted == 3);
  CHECK(c.connections_active == 0);
  CHECK(c.bytes_upstream == 300'003);
  CHECK(c.bytes_downstream == 300'003);
  CHECK(echo.connections() == 3);
}

TEST_CASE("a client's FIN reaches the service and the service's answer still comes back") {
  EchoServer echo;
  TcpProxy proxy(options_for(echo));
  Socket s = connect_loopback(proxy.port());
  send_all(s, "last words");
  ::shutdown(s.fd(), SHUT_WR);
  const auto r = receive(s, 100, 3s);
  CHECK(r.bytes == "last words");
  CHECK(r.eof);  // the echo server closed after the FIN, and the proxy passed that on
}

TEST_CASE("latency delays only its direction") {
  EchoServer echo;
  TcpProxy proxy(options_for(echo));
  Toxic slow = toxic("slow", ToxicType::kLatency, ToxicDirection::kUpstream);
  slow.latency_ms = 100;

  SUBCASE("upstream: the service gets the bytes late") {
    set_and_wait(proxy, slow);
    Socket s = connect_loopback(proxy.port());
    const auto sent_at = Clock::now();
    send_all(s, "ping");
    REQUIRE(echo.wait_bytes(4, 3s));
    const double to_service = ms_between(sent_at, echo.arrivals().back().at);
    const auto r = receive(s, 4, 3s);
    const double back = ms_between(echo.arrivals().back().at, r.last_at);
    CHECK(to_service >= 100);
    CHECK(to_service < 100 + kSlackMs);
    CHECK(back < 50);
  }
  SUBCASE("downstream: the answer comes back late") {
    slow.direction = ToxicDirection::kDownstream;
    set_and_wait(proxy, slow);
    Socket s = connect_loopback(proxy.port());
    const auto sent_at = Clock::now();
    send_all(s, "ping");
    REQUIRE(echo.wait_bytes(4, 3s));
    const double to_service = ms_between(sent_at, echo.arrivals().back().at);
    const auto r = receive(s, 4, 3s);
    const double back = ms_between(echo.arrivals().back().at, r.last_at);
    CHECK(to_service < 50);
    CHECK(back >= 100);
    CHECK(back < 100 + kSlackMs);
  }
}

TEST_CASE("latency round trips add the set value, and jitter varies it within its bounds") {
  EchoServer echo;
  TcpProxy proxy(options_for(echo));
  Socket s = connect_loopback(proxy.port());
  REQUIRE(round_trip_ms(s, "warm") >= 0);

  Toxic slow = toxic("slow", ToxicType::kLatency, ToxicDirection::kDownstream);
  slow.latency_ms = 100;
  set_and_wait(proxy, slow);
  std::vector<double> plain;
  for (int i = 0; i < 5; ++i) plain.push_back(round_trip_ms(s, "x"));
  std::sort(plain.begin(), plain.end());
  CHECK(plain.front() >= 100);
  CHECK(plain[2] < 100 + 30);  // the median: the timer is precise, not just late enough

  slow.latency_ms = 50;
  slow.jitter_ms = 40;
  set_and_wait(proxy, slow);
  std::vector<double> jittered;
  for (int i = 0; i < 12; ++i) jittered.push_back(round_trip_ms(s, "y"));
  std::sort(jittered.begin(), jittered.end());
  CHECK(jittered.front() >= 10);
  CHECK(jittered.back() < 90 + kSlackMs);
  // 12 draws uniform over 80 ms: a spread below 20 ms has probability about 1e-5.
  CHECK(jittered.back() - jittered.front() > 20);
}

TEST_CASE("bandwidth limits the rate of its direction only") {
  EchoServer echo;
  TcpProxy proxy(options_for(echo));
  Toxic narrow = toxic("narrow", ToxicType::kBandwidth, ToxicDirection::kDownstream);
  narrow.rate_kb_per_s = 200;  // 200'000 bytes/s
  set_and_wait(proxy, narrow);

  Socket s = connect_loopback(proxy.port());
  const std::string data = pattern(100'000);
  const auto start = Clock::now();
  send_all(s, data);
  REQUIRE(echo.wait_bytes(data.size(), 3s));
  const double upload_ms = ms_between(start, echo.arrivals().back().at);
  const auto r = receive(s, data.size(), 5s);
  REQUIRE(r.bytes == data);
  const double download_ms = ms_between(start, r.last_at);
  // 100 kB at 200 kB/s is 500 ms; the first two 10 ms slices leave at once (480 ms).
  CHECK(download_ms >= 470);
  CHECK(download_ms < 500 * 1.15 + kSlackMs);
  CHECK(upload_ms < 100);  // the upstream direction is not limited
}

TEST_CASE("timeout holds the data and closes the connection after timeout_ms") {
  EchoServer echo;
  TcpProxy proxy(options_for(echo));
  Toxic cut = toxic("cut", ToxicType::kTimeout, ToxicDirection::kUpstream);
  cut.timeout_ms = 300;
  set_and_wait(proxy, cut);

  Socket s = connect_loopback(proxy.port());
  const auto start = Clock::now();
  send_all(s, "hello?");
  CHECK(wait_end(s, 2s) == Ending::kEof);
  const double closed_ms = ms_between(start, Clock::now());
  CHECK(closed_ms >= 300 - 5);  // timed from when the toxic met the connection, before `start`
  CHECK(closed_ms < 300 + kSlackMs);
  CHECK(echo.bytes_received() == 0);
}

TEST_CASE("a blackhole (timeout 0) holds data until removed, and the data then flows") {
  EchoServer echo;
  TcpProxy proxy(options_for(echo));
  set_and_wait(proxy, toxic("hole", ToxicType::kTimeout, ToxicDirection::kUpstream));

  Socket s = connect_loopback(proxy.port());
  send_all(s, "held");
  const auto r = receive(s, 4, 400ms);  // nothing may come back while the hole is there
  CHECK(r.bytes.empty());
  CHECK_FALSE(r.eof);
  CHECK(echo.bytes_received() == 0);
  CHECK(proxy.counters().connections_active == 1);

  CHECK(proxy.remove_toxic("hole"));
  REQUIRE(proxy.wait_applied(2s));
  const auto after = receive(s, 4, 3s);
  CHECK(after.bytes == "held");
}

TEST_CASE("reset_peer resets the connection when data arrives") {
  EchoServer echo;
  TcpProxy proxy(options_for(echo));
  Toxic rst = toxic("rst", ToxicType::kResetPeer, ToxicDirection::kUpstream);

  SUBCASE("at once") {
    set_and_wait(proxy, rst);
    Socket s = connect_loopback(proxy.port());
    send_all(s, "boom");
    const auto r = receive(s, 4, 3s);
    CHECK(r.error == ECONNRESET);
    CHECK(r.bytes.empty());
  }
  SUBCASE("after timeout_ms") {
    rst.timeout_ms = 200;
    set_and_wait(proxy, rst);
    Socket s = connect_loopback(proxy.port());
    const auto start = Clock::now();
    send_all(s, "boom");
    const auto r = receive(s, 4, 3s);
    CHECK(r.error == ECONNRESET);
    const double reset_ms = ms_between(start, Clock::now());
    CHECK(reset_ms >= 200);
    CHECK(reset_ms < 200 + kSlackMs);
  }
  CHECK(echo.bytes_received() == 0);  // the data that armed the reset was dropped
}

TEST_CASE("slicer splits a chunk into small writes, delay_us apart") {
  EchoServer echo;
  TcpProxy proxy(options_for(echo));
  Toxic slicer = toxic("slicer", ToxicType::kSlicer, ToxicDirection::kDownstream);
  slicer.average_size = 100;
  slicer.size_variation = 20;
  slicer.delay_us = 5000;
  set_and_wait(proxy, slicer);

  Socket s = connect_loopback(proxy.port());
  const std::string data = pattern(1000);
  const auto start = Clock::now();
  send_all(s, data);
  const auto r = receive(s, data.size(), 5s);
  REQUIRE(r.bytes == data);
  // 1000 bytes in slices of 80..120 bytes: 9 to 13 slices, 5 ms apart, so at least 40 ms.
  CHECK(ms_between(start, r.last_at) >= 40);
  // Slices 5 ms apart reach the reader one by one unless it is descheduled for 5 ms; most
  // reads must see one slice.
  CHECK(r.reads.size() >= 6);
  const size_t small =
      std::count_if(r.reads.begin(), r.reads.end(), [](size_t n) { return n <= 120; });
  CHECK(small * 2 >= r.reads.size());
  CHECK(echo.arrivals().size() == 1);  // upstream was not sliced: one read at the service
}

TEST_CASE("limit_data closes the connection after the given bytes") {
  EchoServer echo;
  TcpProxy proxy(options_for(echo));
  Toxic limit = toxic("limit", ToxicType::kLimitData, ToxicDirection::kDownstream);
  limit.bytes = 500;
  set_and_wait(proxy, limit);

  Socket s = connect_loopback(proxy.port());
  const std::string data = pattern(1000);
  send_all(s, data);
  const auto r = receive(s, data.size(), 3s);
  CHECK(r.bytes == data.substr(0, 500));
  CHECK(r.eof);
}

TEST_CASE("slow_close delays the FIN but not the data") {
  EchoServer echo(testing::EchoOptions{.close_after_bytes = 3});
  TcpProxy proxy(options_for(echo));
  Toxic slow_close = toxic("sc", ToxicType::kSlowClose, ToxicDirection::kDownstream);
  slow_close.delay_ms = 300;
  set_and_wait(proxy, slow_close);

  Socket s = connect_loopback(proxy.port());
  send_all(s, "bye");
  const auto r = receive(s, 3, 3s);
  REQUIRE(r.bytes == "bye");
  CHECK(wait_end(s, 2s) == Ending::kEof);
  const double fin_ms = ms_between(r.last_at, Clock::now());
  CHECK(fin_ms >= 300 - 5);  // timed from the service's FIN, just before "bye" was read
  CHECK(fin_ms < 300 + kSlackMs);

  SUBCASE("without the toxic the FIN follows at once") {
    CHECK(proxy.remove_toxic("sc"));
    REQUIRE(proxy.wait_applied(2s));
    Socket t = connect_loopback(proxy.port());
    send_all(t, "bye");
    REQUIRE(receive(t, 3, 3s).bytes == "bye");
    const auto start = Clock::now();
    CHECK(wait_end(t, 2s) == Ending::kEof);
    CHECK(ms_between(start, Clock::now()) < 100);
  }
}

TEST_CASE("down refuses new connections and cuts open ones, and lifting it listens again") {
  EchoServer echo;
  TcpProxy proxy(options_for(echo));
  const int port = proxy.port();
  Socket open = connect_loopback(port);
  REQUIRE(round_trip_ms(open, "up") >= 0);

  set_and_wait(proxy, toxic("off", ToxicType::kDown, ToxicDirection::kDownstream));
  CHECK(wait_end(open, 2s) != Ending::kStillOpen);
  int error = 0;
  Socket refused = connect_loopback(port, &error);
  CHECK(refused.fd() < 0);
  CHECK(error == ECONNREFUSED);
  CHECK(proxy.counters().connections_active == 0);
  CHECK(proxy.metrics_text().find("faultline_proxy_down{proxy=\"echo\"} 1") != std::string::npos);

  CHECK(proxy.remove_toxic("off"));
  REQUIRE(proxy.wait_applied(2s));
  CHECK(proxy.port() == port);
  Socket again = connect_loopback(port);
  REQUIRE(again.fd() >= 0);
  CHECK(round_trip_ms(again, "back") >= 0);
  CHECK(proxy.last_error().empty());
}

// Which of `n` sequential connections a reset_peer toxic with `toxicity` hits on a proxy with
// `seed`: hit connections are reset when they send, the others get their echo.
std::set<uint64_t> reset_ordinals(const EchoServer& echo, uint64_t seed, double toxicity, int n,
                                  uint64_t* affected_metric) {
  TcpProxy proxy(options_for(echo, seed));
  Toxic flaky = toxic("flaky", ToxicType::kResetPeer, ToxicDirection::kUpstream);
  flaky.toxicity = toxicity;
  set_and_wait(proxy, flaky);
  std::set<uint64_t> hit;
  for (int i = 0; i < n; ++i) {
    Socket s = connect_loopback(proxy.port());
    send_all(s, "?");
    const auto r = receive(s, 1, 3s);
    if (r.error == ECONNRESET) {
      hit.insert(static_cast<uint64_t>(i));
    } else {
      REQUIRE(r.bytes == "?");
    }
  }
  *affected_metric = proxy.connections_affected("flaky");
  return hit;
}

TEST_CASE("toxicity hits the same connection ordinals in every run at a seed") {
  EchoServer echo;
  uint64_t affected_a = 0, affected_b = 0, affected_c = 0;
  const auto a = reset_ordinals(echo, 1234, 0.3, 200, &affected_a);
  const auto b = reset_ordinals(echo, 1234, 0.3, 200, &affected_b);
  const auto c = reset_ordinals(echo, 99, 0.3, 200, &affected_c);
  CHECK(a == b);
  CHECK(a != c);
  // The set is the documented function of (seed, toxic name, ordinal).
  std::set<uint64_t> expected;
  for (uint64_t i = 0; i < 200; ++i) {
    if (toxic_hits(1234, "flaky", i, 0.3)) expected.insert(i);
  }
  CHECK(a == expected);
  // Binomial(200, 0.3): mean 60, sd 6.48; 60 +/- 4 sd is [34, 86] (toxic_test.cc checks the
  // hash over 50 seeds; this is the same bound on the sockets' view).
  CHECK(a.size() >= 34);
  CHECK(a.size() <= 86);
  CHECK(affected_a == a.size());
  CHECK(affected_c == c.size());
}

TEST_CASE("changing a toxic acts on connections that are already open") {
  EchoServer echo;
  TcpProxy proxy(options_for(echo));
  Socket s = connect_loopback(proxy.port());
  REQUIRE(round_trip_ms(s, "a") >= 0);

  Toxic slow = toxic("slow", ToxicType::kLatency, ToxicDirection::kDownstream);
  slow.latency_ms = 300;
  set_and_wait(proxy, slow);
  CHECK(round_trip_ms(s, "b") >= 300);

  slow.latency_ms = 100;
  proxy.update_toxic(slow);
  REQUIRE(proxy.wait_applied(2s));
  const double updated = round_trip_ms(s, "c");
  CHECK(updated >= 100);
  CHECK(updated < 300);

  CHECK(proxy.remove_toxic("slow"));
  REQUIRE(proxy.wait_applied(2s));
  const double removed = round_trip_ms(s, "d");
  CHECK(removed >= 0);
  CHECK(removed < 100);
  CHECK_FALSE(proxy.remove_toxic("slow"));
}

TEST_CASE("toxic changes from another thread while data flows keep the stream intact") {
  EchoServer echo;
  TcpProxy proxy(options_for(echo));
  std::atomic<bool> done{false};
  std::thread flipper([&] {
    Toxic slow = toxic("slow", ToxicType::kLatency, ToxicDirection::kDownstream);
    Toxic sliced = toxic("sliced", ToxicType::kSlicer, ToxicDirection::kUpstream);
    sliced.average_size = 300;
    sliced.size_variation = 200;
    for (int i = 0; !done.load(); ++i) {
      slow.latency_ms = i % 3;
      proxy.set_toxic(slow);
      if (i % 2 == 0) {
        proxy.set_toxic(sliced);
      } else {
        proxy.remove_toxic("sliced");
      }
      std::this_thread::sleep_for(1ms);
    }
  });
  Socket s = connect_loopback(proxy.port());
  bool intact = true;
  for (int i = 0; i < 40 && intact; ++i) {
    const std::string data = pattern(20'000 + i * 97);
    send_all(s, data);
    intact = receive(s, data.size(), 5s).bytes == data;
  }
  done.store(true);
  flipper.join();
  CHECK(intact);
}

TEST_CASE("toxic changes are validated and names are unique") {
  EchoServer echo;
  TcpProxy proxy(options_for(echo));
  Toxic slow = toxic("slow", ToxicType::kLatency, ToxicDirection::kDownstream);
  slow.latency_ms = 10;
  proxy.add_toxic(slow);
  REQUIRE(proxy.wait_applied(2s));
  CHECK(proxy.wait_applied(0ms));  // the non-blocking check a driver's tick() makes
  CHECK_THROWS_AS(proxy.add_toxic(slow), std::invalid_argument);
  Toxic missing = slow;
  missing.name = "missing";
  CHECK_THROWS_AS(proxy.update_toxic(missing), std::invalid_argument);
  Toxic bad = slow;
  bad.jitter_ms = 20;
  CHECK_THROWS_AS(proxy.set_toxic(bad), std::invalid_argument);
  REQUIRE(proxy.toxics().size() == 1);
  CHECK(proxy.toxics()[0] == slow);
  proxy.remove_all_toxics();
  CHECK(proxy.toxics().empty());
  proxy.add_toxic(slow);  // a removed name can be used again
  CHECK(proxy.toxics().size() == 1);
}

TEST_CASE("metrics_text is a valid exposition of connections, bytes and toxics") {
  EchoServer echo;
  TcpProxy proxy(options_for(echo));
  Toxic slow = toxic("slow", ToxicType::kLatency, ToxicDirection::kUpstream);
  slow.latency_ms = 1;
  set_and_wait(proxy, slow);
  Toxic gone = toxic("gone", ToxicType::kBandwidth, ToxicDirection::kDownstream);
  gone.rate_kb_per_s = 1000;
  set_and_wait(proxy, gone);
  {
    Socket s = connect_loopback(proxy.port());
    REQUIRE(round_trip_ms(s, "12345") >= 0);
  }
  CHECK(proxy.remove_toxic("gone"));
  REQUIRE(proxy.wait_applied(2s));

  const observe::Exposition e = observe::MetricsTextParser().parse(proxy.metrics_text());
  auto value = [&](const std::string& family, const std::vector<observe::Label>& labels) {
    const observe::MetricFamily* f = e.find_family(family);
    REQUIRE(f != nullptr);
    for (const auto& s : f->samples) {
      if (s.labels == labels) return s.value;
    }
    FAIL("no sample " << family);
    return -1.0;
  };
  const observe::Label proxy_label{"proxy", "echo"};
  CHECK(value("faultline_proxy_connections_accepted_total", {proxy_label}) == 1);
  CHECK(value("faultline_proxy_bytes_total", {{"direction", "upstream"}, proxy_label}) == 5);
  CHECK(value("faultline_proxy_bytes_total", {{"direction", "downstream"}, proxy_label}) == 5);
  CHECK(value("faultline_proxy_down", {proxy_label}) == 0);
  CHECK(value("faultline_proxy_toxic_active",
              {{"direction", "upstream"}, proxy_label, {"toxic", "slow"}, {"type", "latency"}}) ==
        1);
  CHECK(e.find_family("faultline_proxy_toxic_active")->samples.size() == 1);  // not "gone"
  CHECK(value("faultline_proxy_toxic_connections_affected_total",
              {proxy_label, {"toxic", "slow"}}) == 1);
  CHECK(value("faultline_proxy_toxic_connections_affected_total",
              {proxy_label, {"toxic", "gone"}}) == 1);
  CHECK(e.find_family("faultline_proxy_connections_accepted_total")->type ==
        observe::MetricType::kCounter);
}

TEST_CASE("an upstream that refuses gets the client reset, counted as a connect failure") {
  int closed_port = 0;
  {
    EchoServer gone;  // a port that was just listening, now closed
    closed_port = gone.port();
  }
  TcpProxyOptions o;
  o.name = "nowhere";
  o.upstream_port = closed_port;
  TcpProxy proxy(o);
  Socket s = connect_loopback(proxy.port());
  REQUIRE(s.fd() >= 0);
  CHECK(wait_end(s, 3s) == Ending::kReset);
  CHECK(proxy.counters().upstream_connect_failures == 1);
}

TEST_CASE("a proxy forwards only to loopback") {
  TcpProxyOptions o;
  o.name = "p";
  o.upstream_port = 6379;
  for (const char* host : {"10.0.0.1", "192.168.1.1", "example.com", "::2", "0.0.0.0", ""}) {
    o.upstream_host = host;
    CHECK_THROWS_AS(TcpProxy{o}, UsageError);
  }
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "::1"}) {
    o.upstream_host = host;
    CHECK_NOTHROW(TcpProxy{o});
  }
  o.upstream_host = "127.0.0.1";
  o.name = "bad name";
  CHECK_THROWS_AS(TcpProxy{o}, UsageError);
}

TEST_CASE("stop leaves no thread and no file descriptor behind") {
  EchoServer echo;
  const int threads_before = testing::thread_count();
  const int fds_before = testing::fd_count();
  Socket held;
  {
    TcpProxy proxy(options_for(echo));
    CHECK(testing::thread_count() == threads_before + 1);
    Toxic hole = toxic("hole", ToxicType::kTimeout, ToxicDirection::kUpstream);
    set_and_wait(proxy, hole);
    held = connect_loopback(proxy.port());
    Socket other = connect_loopback(proxy.port());
    send_all(held, "x");
    const auto deadline = Clock::now() + 2s;
    while (proxy.counters().connections_active < 2 && Clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    REQUIRE(proxy.counters().connections_active == 2);
    proxy.stop();
    CHECK(proxy.counters().connections_active == 0);
    CHECK_FALSE(proxy.wait_applied(100ms));  // a stopped proxy applies nothing
    proxy.stop();                            // idempotent
  }
  CHECK(wait_end(held, 2s) != Ending::kStillOpen);  // the client saw its connection end
  held.reset();
  CHECK(testing::thread_count() == threads_before);
  // The echo server closes its ends of the proxy's upstream connections when it reads their
  // FIN, on its own thread: give it a moment. A descriptor the proxy leaked never goes away.
  const auto deadline = Clock::now() + 3s;
  while (testing::fd_count() != fds_before && Clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  CHECK(testing::fd_count() == fds_before);
}

}  // namespace
}  // namespace faultline
