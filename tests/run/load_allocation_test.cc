// The load engine's hot path allocates nothing per request once warm (curl's own allocations
// aside). Counts operator new calls on the loop thread, from inside the sink, which runs there.
#include <doctest/doctest.h>

#include <cstdlib>
#include <new>
#include <string>

#include "run/load_engine.h"
#include "test_http_server.h"

namespace {
thread_local uint64_t t_allocations = 0;
}  // namespace

void* operator new(std::size_t n) {
  ++t_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  ++t_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace faultline {
namespace {

using namespace std::chrono_literals;

// Assigns into the engine's recycled request, as a real source should.
class AssigningSource : public RequestSource {
 public:
  AssigningSource(std::string url, uint64_t count) : url_(std::move(url)), count_(count) {}
  bool next(PlannedRequest& out) override {
    if (seq_ == count_) return false;
    out.seq = seq_;
    out.intended = Duration(300 * static_cast<int64_t>(seq_));
    out.url.assign(url_);
    out.headers.resize(1);
    out.headers[0].assign("X-Route: orders");
    out.request_id.assign("request-id-with-a-long-prefix-");
    out.request_id.push_back(static_cast<char>('a' + seq_ % 26));
    ++seq_;
    return true;
  }

 private:
  std::string url_;
  uint64_t count_, seq_ = 0;
};

class AllocationProbe : public SampleSink {
 public:
  void on_sample(const RequestSample& s) override {
    ++samples;
    if (s.error_class == "dropped") ++dropped;
    if (samples == 500) at_500 = t_allocations;
    if (samples == 1500) at_1500 = t_allocations;
  }
  uint64_t samples = 0, dropped = 0, at_500 = 0, at_1500 = 0;
};

TEST_CASE("a warm load engine allocates nothing per request") {
  test::TestHttpServer server;
  LoadEngineOptions options;
  options.max_in_flight = 8;  // the transfer pool grows at most 8 times
  LoadEngine engine(options);
  AssigningSource source(server.url("/fast"), 1500);
  AllocationProbe probe;
  engine.start(std::chrono::steady_clock::now() + 10ms, source, probe);
  REQUIRE(engine.wait_traffic_done(30s));
  engine.finish();
  REQUIRE(probe.samples == 1500);
  // One allocation per request would be 1000 here; pool growth is a few per transfer.
  CHECK(probe.at_1500 - probe.at_500 < 100);
  MESSAGE("allocations on the loop thread over 1000 requests: " << probe.at_1500 - probe.at_500
                                                                << ", dropped " << probe.dropped);
}

}  // namespace
}  // namespace faultline
