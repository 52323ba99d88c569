// ClientStats diagnostics: send lateness per phase, and requests that faultline's own stop
// aborted, which are neither target errors nor latencies (issue 8, items 3 and 10).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "observe/client_stats.h"
#include "observe/sample_log.h"
#include "temp_dir.h"

using faultline::observe::ClientSelection;
using faultline::observe::ClientStats;
using faultline::observe::outcome_of;
using faultline::observe::OutcomeSelector;
using faultline::observe::SampleLogReader;
using faultline::observe::SampleLogWriter;
using faultline::observe::SampleRecord;

namespace {

SampleRecord sent(uint64_t seq, std::string phase, int status, int64_t latency_us,
                  int64_t lateness_us = 0, std::string error_class = "") {
  SampleRecord r;
  r.seq = seq;
  r.request_id = "req-" + std::to_string(seq);
  r.route = "orders";
  r.method = "GET";
  r.path = "/orders";
  r.phase = std::move(phase);
  r.intended_us = static_cast<int64_t>(seq) * 1000;
  r.sent_us = r.intended_us + lateness_us;
  r.latency_us = latency_us;
  r.status = status;
  r.error_class = std::move(error_class);
  return r;
}

ClientSelection phase(const std::string& name) {
  ClientSelection s;
  s.phases = {name};
  return s;
}

ClientSelection with_outcome(const char* outcome) {
  ClientSelection s;
  s.outcomes = {OutcomeSelector::parse(outcome)};
  return s;
}

}  // namespace

TEST_CASE("send lateness: a histogram per phase of sent minus intended time") {
  ClientStats stats;
  // warmup: 100 requests, 98 on time, one 5 ms late and one 40 ms late.
  for (uint64_t i = 0; i < 98; ++i) stats.record(sent(i, "warmup", 200, 2000));
  stats.record(sent(98, "warmup", 200, 7000, 5000));
  stats.record(sent(99, "warmup", 200, 42000, 40000));
  // trigger: every request 100 ms late, and one dropped arrival (never sent: no lateness).
  for (uint64_t i = 100; i < 150; ++i) stats.record(sent(i, "trigger", 200, 101000, 100000));
  SampleRecord dropped = sent(150, "trigger", 0, 0, 0, "dropped");
  dropped.sent_us = dropped.intended_us + 900000;  // the drop decision came late: not a send
  stats.record(dropped);

  const auto warmup = stats.send_lateness(phase("warmup"));
  CHECK(warmup.count() == 100);
  CHECK(warmup.quantile_us(0.5) == 0);
  CHECK(warmup.quantile_us(0.99) == doctest::Approx(5000).epsilon(0.005).scale(0));
  CHECK(warmup.max_us() == 40000);

  const auto trigger = stats.send_lateness(phase("trigger"));
  CHECK(trigger.count() == 50);
  CHECK(trigger.quantile_us(0.5) == doctest::Approx(100000).epsilon(0.005).scale(0));
  CHECK(trigger.max_us() == 100000);

  CHECK(stats.send_lateness({}).count() == 150);
  // Outcome selectors do not narrow lateness: it is a property of the client, not the answer.
  CHECK(stats.send_lateness(with_outcome("5xx")).count() == 150);
}

TEST_CASE("send lateness: a sample sent before its time counts as on time, merging is exact") {
  ClientStats a, b;
  SampleRecord early = sent(1, "p", 200, 1000);
  early.sent_us = early.intended_us - 50;  // clocks read on different threads
  a.record(early);
  b.record(sent(2, "p", 200, 3000, 3000));
  a.merge(b);
  const auto h = a.send_lateness(phase("p"));
  CHECK(h.count() == 2);
  CHECK(h.min_us() == 0);
  CHECK(h.max_us() == 3000);
}

TEST_CASE("aborted requests are not target errors and have no latency") {
  ClientStats stats;
  for (uint64_t i = 0; i < 8; ++i) stats.record(sent(i, "p", 200, 1000));
  stats.record(sent(8, "p", 503, 2000));
  stats.record(sent(9, "p", 0, 3000, 0, "timeout"));
  // Faultline's stop aborted these two in flight; their "latency" is the stop.
  stats.record(sent(10, "p", 0, 9'000'000, 0, "aborted"));
  stats.record(sent(11, "p", 0, 9'500'000, 2000, "aborted"));

  CHECK(stats.count({}) == 10);  // sent with an outcome of the target's
  CHECK(stats.aborted({}) == 2);
  CHECK(stats.aborted(phase("other phase")) == 0);
  CHECK(stats.dropped({}) == 0);
  CHECK(stats.error_rate({}) == doctest::Approx(0.2));  // 503 + timeout of 10, not 4 of 12
  CHECK(stats.count(with_outcome("transport")) == 1);
  CHECK(stats.count(with_outcome("other")) == 0);
  const auto latency = stats.latency({});
  CHECK(latency.count() == 10);
  CHECK(latency.max_us() == 3000);
  // Not among the slowest, not an error signature.
  const auto slowest = stats.slowest().slowest_first();
  CHECK(slowest.size() == 10);
  for (const auto& s : slowest) CHECK(s.error_class != "aborted");
  CHECK(stats.error_signatures().total() == 2);
  for (const auto& e : stats.error_signatures().most_frequent()) {
    CHECK(e.signature.find("other") == std::string::npos);
    CHECK(e.signature.find("aborted") == std::string::npos);
  }
  // They were sent, so their lateness counts.
  CHECK(stats.send_lateness({}).count() == 12);
  CHECK(stats.send_lateness({}).max_us() == 2000);
}

TEST_CASE("aborted keeps its class and no outcome selector matches it") {
  const SampleRecord a = sent(1, "p", 0, 100, 0, "aborted");
  CHECK(a.aborted());
  CHECK(outcome_of(a).second == "aborted");
  for (const char* o : {"error", "transport", "other", "timeout", "5xx", "ok"})
    CHECK_FALSE(OutcomeSelector::parse(o).matches(0, "aborted"));
  // An unknown class is still a transport error of class "other".
  CHECK(outcome_of(sent(2, "p", 0, 100, 0, "weird")).second == "other");
}

TEST_CASE("aborted requests round trip through the sample log") {
  const faultline::testing::TempDir dir("aborted-log");
  const std::string path = dir / "samples.csv.gz";
  std::vector<SampleRecord> written = {sent(1, "p", 200, 1000), sent(2, "p", 0, 5000, 0, "aborted"),
                                       sent(3, "p", 0, 7000, 300, "timeout")};
  {
    SampleLogWriter w(path);
    for (const auto& r : written) w.append(r);
    w.close();
  }
  ClientStats from_log;
  SampleLogReader reader(path);
  SampleRecord r;
  std::vector<SampleRecord> read;
  while (reader.next(r)) {
    read.push_back(r);
    from_log.record(r);
  }
  CHECK(read == written);
  CHECK(from_log.aborted({}) == 1);
  CHECK(from_log.count({}) == 2);
  CHECK(from_log.error_rate({}) == doctest::Approx(0.5));
}
