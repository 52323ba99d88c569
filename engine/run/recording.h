// RunRecording: everything a run keeps of what it saw, done off the traffic thread.
//
// The load engine's loop thread only hands over samples (a copy into a buffer) and scrape
// bodies (a move); a recording thread does the rest: ClientStats and the scrape store
// (parsing /metrics), the gzip sample and scrape logs, and the raw snapshots at phase
// boundaries. So a huge /metrics page or a slow disk never delays a request, and faultline
// never blames the target for its own stall. Both logs are flushed at least every
// `flush_interval`, so a faultline killed with SIGKILL leaves a readable, if short, bundle.
//
// A failure of the recording (the disk is full) is kept and reported by failure(); the
// traffic then goes on without recording, and the session ends the run on it.
//
// Thread-safety: on_sample on a loop thread (one call at a time), on_scrape from any thread,
// failure/finish from the control thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "observe/sample_log.h"
#include "observe/scrape_log.h"
#include "plan/arrival_stream.h"
#include "plan/plan.h"
#include "recorded/bundle.h"
#include "recorded/run_observations.h"
#include "run/load_engine.h"

namespace faultline {

// The plan times at which a run of `plan` reads the server side: the plan's ticks, phase
// starts and the judged windows' ends. Sorted, unique.
std::vector<Duration> scrape_ticks(const Plan& plan);

class RunRecording : public SampleSink {
 public:
  RunRecording(const Plan& plan, const BundleLayout& bundle, RunObservations& observations,
               Duration flush_interval = std::chrono::seconds(1));
  ~RunRecording() override;  // finish()es if needed, ignoring errors
  RunRecording(const RunRecording&) = delete;
  RunRecording& operator=(const RunRecording&) = delete;

  // The base URL the traffic's paths are appended to (ArrivalSource's): a sample's path is its
  // URL without it. Call before the first sample.
  void set_base_url(std::string_view base_url) { base_url_length_ = base_url.size(); }
  void on_sample(const RequestSample& sample) override;
  // A scrape of `job` at tick `tick_index` of `ticks`: its body, or why it failed. A body at a
  // phase boundary (`snapshot`) is also kept raw in the bundle.
  void on_scrape(const std::string& job, size_t tick_index, std::optional<std::string> body,
                 std::string error, bool snapshot);

  std::optional<std::string> failure() const;
  // Records everything handed over, closes both logs. Throws SampleLogError / LogFileError
  // for a failure not yet reported through failure(). Idempotent.
  void finish();

  // Scrape ticks in plan time: the plan's ticks, phase starts and the judged windows' ends.
  const std::vector<Duration>& ticks() const { return ticks_; }

 private:
  struct PendingScrape {
    std::string job;
    size_t tick = 0;
    std::optional<std::string> body;
    std::string error;
    bool snapshot = false;
  };
  void run();
  void record_batch(std::vector<observe::SampleRecord>& samples,
                    std::deque<PendingScrape>& scrapes);

  const Plan& plan_;
  BundleLayout bundle_;
  RunObservations& obs_;
  Duration flush_interval_;
  std::vector<Duration> ticks_;
  observe::SampleLogWriter sample_log_;
  observe::ScrapeLogWriter scrape_log_;

  size_t base_url_length_ = 0;  // set_base_url

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<observe::SampleRecord> samples_;  // handed over, not yet recorded
  std::deque<PendingScrape> scrapes_;
  bool closing_ = false;
  std::optional<std::string> failure_;
  bool finished_ = false;
  std::thread thread_;
};

}  // namespace faultline
