#include "observe/client_stats.h"

#include <doctest/doctest.h>

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/rng.h"
#include "observe/error_signatures.h"
#include "observe/slowest_requests.h"

using faultline::Rng;
using faultline::observe::ClientSelection;
using faultline::observe::ClientStats;
using faultline::observe::ErrorSignatures;
using faultline::observe::OutcomeSelector;
using faultline::observe::SampleRecord;
using faultline::observe::SlowestRequests;
using faultline::observe::TimeWindow;

namespace {

SampleRecord sample(uint64_t seq, std::string phase, std::string route, int status,
                    int64_t latency_us, std::string error_class = "") {
  SampleRecord r;
  r.seq = seq;
  r.request_id = "req-" + std::to_string(seq);
  r.phase = std::move(phase);
  r.route = std::move(route);
  r.method = "GET";
  r.path = "/" + r.route;
  r.intended_us = static_cast<int64_t>(seq) * 1000;
  r.sent_us = r.intended_us;
  r.latency_us = latency_us;
  r.status = status;
  r.error_class = std::move(error_class);
  return r;
}

std::vector<OutcomeSelector> outcomes(std::initializer_list<const char*> texts) {
  std::vector<OutcomeSelector> out;
  for (const char* t : texts) out.push_back(OutcomeSelector::parse(t));
  return out;
}

}  // namespace

TEST_CASE("slowest requests: the k slowest, ties by seq, bounded, mergeable") {
  Rng rng(11);
  std::vector<SampleRecord> all;
  SlowestRequests top(50), left(50), right(50);
  for (uint64_t i = 0; i < 20'000; ++i) {
    // Few distinct latencies, so ties are common.
    SampleRecord r = sample(i, "p", "r", 200, 1000 * rng.uniform_int(1, 300));
    all.push_back(r);
    top.offer(r);
    (i % 2 ? left : right).offer(r);
    REQUIRE(top.size() <= 50);
  }
  std::sort(all.begin(), all.end(), [](const SampleRecord& a, const SampleRecord& b) {
    return a.latency_us != b.latency_us ? a.latency_us > b.latency_us : a.seq < b.seq;
  });
  all.resize(50);
  CHECK(top.slowest_first() == all);
  left.merge(right);
  CHECK(left.slowest_first() == all);
  SlowestRequests few(3);
  few.offer(sample(1, "p", "r", 200, 5));
  CHECK(few.slowest_first().size() == 1);
  SlowestRequests none(0);
  none.offer(sample(1, "p", "r", 200, 5));
  CHECK(none.size() == 0);
}

TEST_CASE("error signatures: counted, bounded, first request id kept") {
  ErrorSignatures sig(200);
  for (int i = 0; i < 300; ++i)
    sig.add("sig" + std::to_string(i), "id" + std::to_string(i), i < 10 ? 5 : 1);
  sig.add("sig3", "later");
  CHECK(sig.total() == 10 * 5 + 290 + 1);
  CHECK(sig.distinct() == 201);  // 200 signatures + (other)
  const auto top = sig.most_frequent();
  CHECK(top[0].signature == "(other)");  // the 100 that did not fit
  CHECK(top[0].count == 100);
  CHECK(top[0].first_request_id == "id200");
  CHECK(top[1].signature == "sig3");
  CHECK(top[1].count == 6);
  CHECK(top[1].first_request_id == "id3");
  // Long signatures are cut on a character boundary.
  ErrorSignatures cut;
  cut.add(std::string(199, 'x') + "\xc3\xa9tail", "id");
  CHECK(cut.most_frequent()[0].signature == std::string(199, 'x'));
  // Merging adds counts; the merged-in side's (other) stays (other).
  ErrorSignatures a(2), b(2);
  a.add("x", "1");
  b.add("y", "2", 3);
  b.add("z", "3");
  b.add("w", "4");  // b: y, z, (other)=1
  a.merge(b);
  CHECK(a.total() == 1 + 3 + 1 + 1);
  CHECK(a.most_frequent()[0].signature == "y");
}

TEST_CASE("outcome selectors parse the DSL's forms") {
  CHECK(OutcomeSelector::parse("5xx").matches(503, ""));
  CHECK_FALSE(OutcomeSelector::parse("5xx").matches(404, ""));
  CHECK_FALSE(OutcomeSelector::parse("5xx").matches(0, "timeout"));
  CHECK(OutcomeSelector::parse("503").matches(503, ""));
  CHECK_FALSE(OutcomeSelector::parse("503").matches(502, ""));
  CHECK(OutcomeSelector::parse("error").matches(500, ""));
  CHECK(OutcomeSelector::parse("error").matches(0, "reset"));
  CHECK_FALSE(OutcomeSelector::parse("error").matches(429, ""));
  CHECK(OutcomeSelector::parse("ok").matches(302, ""));
  CHECK(OutcomeSelector::parse("transport").matches(0, "refused"));
  CHECK(OutcomeSelector::parse("timeout").matches(0, "timeout"));
  CHECK_FALSE(OutcomeSelector::parse("timeout").matches(0, "reset"));
  CHECK(OutcomeSelector::parse("5xx").matches(-5, ""));  // a lumped 5xx status
  CHECK_FALSE(OutcomeSelector::parse("503").matches(-5, ""));
  for (const char* bad : {"", "6xx", "5XX", "99", "600", "50x", "errors", "Timeout"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(OutcomeSelector::parse(bad), std::invalid_argument);
  }
  CHECK_THROWS_WITH(OutcomeSelector::parse("5xxx"), doctest::Contains("status class (2xx, 5xx)"));
}

TEST_CASE("client stats: counts, error rates, rps and latency by selection") {
  ClientStats stats;
  uint64_t seq = 0;
  // warmup: orders 90 x 200 @10ms, 10 x 503 @2ms; users 50 x 200 @ 5ms
  for (int i = 0; i < 90; ++i) stats.record(sample(seq++, "warmup", "orders", 200, 10'000));
  for (int i = 0; i < 10; ++i) stats.record(sample(seq++, "warmup", "orders", 503, 2'000));
  for (int i = 0; i < 50; ++i) stats.record(sample(seq++, "warmup", "users", 200, 5'000));
  // trigger: orders 60 x 200 @ 800ms, 20 x timeout @ 5s, 10 x 404, 5 dropped; users 40 x 500
  for (int i = 0; i < 60; ++i) stats.record(sample(seq++, "trigger", "orders", 200, 800'000));
  for (int i = 0; i < 20; ++i)
    stats.record(sample(seq++, "trigger", "orders", 0, 5'000'000, "timeout"));
  for (int i = 0; i < 10; ++i) stats.record(sample(seq++, "trigger", "orders", 404, 1'000));
  for (int i = 0; i < 5; ++i) stats.record(sample(seq++, "trigger", "orders", 0, 0, "dropped"));
  for (int i = 0; i < 40; ++i) stats.record(sample(seq++, "trigger", "users", 500, 3'000));

  const ClientSelection all;
  const ClientSelection warmup{{"warmup"}, {}, {}};
  const ClientSelection trigger_orders{{"trigger"}, {"orders"}, {}};
  CHECK(stats.count(all) == 100 + 50 + 90 + 40);
  CHECK(stats.count(warmup) == 150);
  CHECK(stats.count(trigger_orders) == 90);
  CHECK(stats.dropped(trigger_orders) == 5);
  CHECK(stats.dropped(warmup) == 0);
  CHECK(stats.count({{"warmup", "trigger"}, {"users"}, {}}) == 90);
  CHECK(stats.count({{}, {}, outcomes({"5xx"})}) == 10 + 40);

  CHECK(stats.error_rate(warmup) == doctest::Approx(10.0 / 150));
  CHECK(stats.error_rate(trigger_orders) == doctest::Approx(20.0 / 90));  // 404 is not an error
  CHECK(stats.error_rate(trigger_orders, outcomes({"4xx"})) == doctest::Approx(10.0 / 90));
  CHECK(stats.error_rate(trigger_orders, outcomes({"4xx", "timeout"})) ==
        doctest::Approx(30.0 / 90));
  CHECK(stats.error_rate(all, outcomes({"503"})) == doctest::Approx(10.0 / 280));
  CHECK(stats.error_rate({{"trigger"}, {}, {}}, outcomes({"5xx"})) == doctest::Approx(40.0 / 130));
  CHECK(std::isnan(stats.error_rate({{"nope"}, {}, {}})));

  CHECK(stats.rps(warmup, TimeWindow{faultline::Duration{0}, std::chrono::seconds(10)}) == 15);

  const auto warm_orders = stats.latency({{"warmup"}, {"orders"}, {}});
  CHECK(warm_orders.count() == 100);
  CHECK(warm_orders.quantile_us(0.05) == doctest::Approx(2000).epsilon(0.01).scale(0));
  CHECK(warm_orders.quantile_us(0.5) == doctest::Approx(10'000).epsilon(0.01).scale(0));
  CHECK(warm_orders.max_us() == 10'000);
  CHECK(warm_orders.mean_us() == doctest::Approx((90 * 10'000 + 10 * 2'000) / 100.0));
  const auto ok_only = stats.latency({{"warmup"}, {"orders"}, outcomes({"2xx"})});
  CHECK(ok_only.min_us() == 10'000);
  const auto trig = stats.latency(trigger_orders);
  CHECK(trig.quantile_us(0.95) == doctest::Approx(5'000'000).epsilon(0.01).scale(0));
  CHECK(trig.quantile_us(1) == 5'000'000);
  CHECK(trig.quantile_us(0.5) == doctest::Approx(800'000).epsilon(0.01).scale(0));

  // Signatures: 503 x10, timeout x20, 404 x10, dropped x5, users 500 x40.
  const auto sigs = stats.error_signatures().most_frequent();
  REQUIRE(sigs.size() == 5);
  CHECK(sigs[0].signature == "users 500");
  CHECK(sigs[0].count == 40);
  CHECK(sigs[1].signature == "orders timeout");
  CHECK(stats.error_signatures().total() == 85);
  // The slowest are the timeouts, earliest first.
  const auto slow = stats.slowest().slowest_first();
  REQUIRE(slow.size() == 50);
  CHECK(slow[0].latency_us == 5'000'000);
  CHECK(slow[0].seq == 210);
  CHECK(slow[20].latency_us == 800'000);

  const auto keys = stats.keys();
  CHECK(keys.size() == 4);
  CHECK(keys[0] == std::pair<std::string, std::string>("trigger", "orders"));
}

TEST_CASE("client stats: extra windows, merge, and bounded outcomes") {
  ClientStats whole, left, right;
  Rng rng(5);
  for (uint64_t i = 0; i < 5000; ++i) {
    const int status = rng.uniform01() < 0.1 ? 500 + static_cast<int>(rng.uniform_int(0, 3)) : 200;
    SampleRecord r = sample(i, i < 2500 ? "warmup" : "trigger", "r" + std::to_string(i % 3), status,
                            rng.uniform_int(100, 2'000'000));
    whole.record(r);
    (i % 2 ? left : right).record(r);
    if (i >= 4000) {
      whole.record_in("trigger/last 1s", r);
      (i % 2 ? left : right).record_in("trigger/last 1s", r);
    }
  }
  left.merge(right);
  for (const ClientSelection& sel : {ClientSelection{}, ClientSelection{{"trigger"}, {"r1"}, {}},
                                     ClientSelection{{"trigger/last 1s"}, {}, outcomes({"5xx"})}}) {
    CHECK(left.count(sel) == whole.count(sel));
    CHECK(left.latency(sel) == whole.latency(sel));
    CHECK(left.error_rate(sel) == whole.error_rate(sel));
  }
  CHECK(whole.count({{"trigger/last 1s"}, {}, {}}) == 1000);
  // record_in feeds neither the top-k nor the signatures a second time.
  CHECK(left.error_signatures().total() == whole.error_signatures().total());
  CHECK(left.slowest().slowest_first() == whole.slowest().slowest_first());
  // The whole-run selection does not double count: it names the phases.
  CHECK(whole.count({{"warmup", "trigger"}, {}, {}}) == 5000);

  // More distinct statuses than kMaxOutcomesPerKey: the rest keep only their class.
  ClientStats many;
  for (int code = 100; code < 600; ++code) many.record(sample(code, "p", "r", code, 1000));
  CHECK(many.count({}) == 500);
  CHECK(many.count({{}, {}, outcomes({"5xx"})}) == 100);
  CHECK(many.count({{}, {}, outcomes({"599"})}) == 0);  // lumped into "some 5xx"
  CHECK(many.count({{}, {}, outcomes({"101"})}) == 1);
}

TEST_CASE("client stats: memory stays flat however many requests are recorded") {
  ClientStats stats;
  Rng rng(8);
  const char* phases[] = {"warmup", "trigger", "cooldown"};
  const char* routes[] = {"orders", "users", "payment", "search"};
  auto record_n = [&](uint64_t from, uint64_t n) {
    for (uint64_t i = from; i < from + n; ++i) {
      const double u = rng.uniform01();
      const int status = u < 0.05 ? 503 : (u < 0.07 ? 404 : 200);
      stats.record(
          sample(i, phases[i % 3], routes[i % 4], u < 0.01 ? 0 : status,
                 static_cast<int64_t>(rng.exponential(50'000)) + (u < 0.001 ? 3'000'000'000 : 0),
                 u < 0.01 ? "timeout" : ""));
    }
  };
  record_n(0, 200'000);
  const size_t after_warmup = mallinfo2().uordblks;
  record_n(200'000, 1'000'000);
  const size_t after_more = mallinfo2().uordblks;
  CHECK(stats.count({}) == 1'200'000 - stats.dropped({}));
  // Five times the requests, (almost) no more memory: only a few new histogram buckets.
  CHECK(after_more < after_warmup + 256 * 1024);
  MESSAGE("client stats heap after 200k requests: " << after_warmup / 1024 << " KiB, after 1.2M: "
                                                    << after_more / 1024 << " KiB");
}
