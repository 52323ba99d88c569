// Recorded runs written by hand for the tests of the recorded-run stage, laid out as the
// runner leaves them: an artifact and, beside it, its bundle (plan.json, samples.csv.gz,
// scrapes.txt.gz). Both logs are flushed as the recording thread flushes them (gzip sync
// points between entries), so a test can cut them where a kill -9 would.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.h"

namespace faultline::testing {

// Two phases, warmup and trigger, 10 s each at 10 requests/s, one route; api scraped every
// 5 s. Assertions: warmup p95 < 100ms, trigger p95 > 800ms, trigger error rate > 10%, and the
// api's request counter rose in the trigger. Compare gate: warmup p95 regresses by <= 10%.
Plan recorded_test_plan();

struct WrittenRun {
  std::string dir;       // the directory holding the artifact and the bundle
  std::string artifact;  // <dir>/incident-recorded-<stamp>.json
  std::string bundle;    // <dir>/incident-recorded-<stamp>
  // File sizes of samples.csv.gz / scrapes.txt.gz after each flush, and how many records or
  // scrapes had been written then: a cut at one of these sizes keeps exactly that many.
  std::vector<std::pair<uint64_t, uint64_t>> sample_flushes, scrape_flushes;
  uint64_t samples = 0, scrapes = 0;
};

struct RunOptions {
  std::string stamp = "20261122T000000Z";
  std::string status = "passed";  // the artifact's status
  size_t flush_every = 25;        // samples between flushes (the scrape log is flushed after
                                  // every scrape)
};

// Writes a run of `plan` into `dir` (created if needed): 200 requests (every warmup one
// 20 ms; in the trigger one in five is a 503, the rest 900 ms) and 5 scrapes of api.
WrittenRun write_recorded_test_run(const std::string& dir, const Plan& plan,
                                   const RunOptions& options = {});

// Cuts `path` to its first `bytes` bytes.
void cut_file(const std::string& path, uint64_t bytes);

// Replaces the bytes of `path` from `offset` on with `bytes`.
void overwrite_file(const std::string& path, uint64_t offset, const std::string& bytes);

std::string read_test_file(const std::string& path);

}  // namespace faultline::testing
