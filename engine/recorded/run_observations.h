// RunObservations: everything a run observes, and the judge's MetricSource over it.
//
// Client side: every sample goes into ClientStats under its phase, and again under each
// extra judging window (e.g. "during(trigger, last 10s)", "after(cooldown)") whose span
// contains its intended time; the windows are computed before the run from the statements
// (see judging_windows), so any window an assertion reads is answered exactly from memory.
// Server side: scrapes land in a ScrapeStore at their tick's plan time, in tick order even
// when they complete out of order.
//
// Thread-safety: all methods lock an internal mutex, so the load engine's loop thread can
// record while the control thread reads (progress, abort_if).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "judge/metric_source.h"
#include "judge/run_facts.h"
#include "observe/client_stats.h"
#include "observe/scrape_log.h"
#include "observe/scrape_store.h"
#include "plan/plan.h"
#include "report/report.h"

namespace faultline {

// The windows the plan's statements read (assertions and abort_if), found by evaluating
// each statement against a source that records queries. Sorted, unique.
std::vector<judge::TimeWindow> judging_windows(const Plan& plan);

// The routes and outcomes that a client query's selectors pick in a run of `plan` (phases
// left empty): route=R selects R, method=M every route that uses M (a route has one method),
// status=/error= the outcomes. compare uses it too, so that it resamples exactly the requests
// the judge measured.
observe::ClientSelection select_by_query(const judge::ClientQuery& query, const Plan& plan);

// What RunObservations::load_recorded_logs read back from a bundle's two logs.
struct RecordedLogs {
  uint64_t samples = 0;      // records read from samples.csv.gz
  size_t scrapes = 0;        // entries (scrapes and failed scrapes) read from scrapes.txt.gz
  bool samples_cut = false;  // the log ends before the run did (the run was killed)
  bool scrapes_cut = false;

  bool cut() const { return samples_cut || scrapes_cut; }
  // "samples.csv.gz ends after 12 records, scrapes.txt.gz after 3 scrapes" for the logs that
  // were cut; "" when neither was.
  std::string describe_cut() const;
};

class RunObservations : public judge::MetricSource {
 public:
  RunObservations(const Plan& plan, std::vector<judge::TimeWindow> extra_windows,
                  std::vector<std::string> metrics_of_interest);

  void record(const observe::SampleRecord& sample);

  // Every scrape stored from now on is also appended to `log` (the bundle's scrapes.txt.gz),
  // in the order the store receives them. Not owned; null stops it.
  void record_scrapes_to(observe::ScrapeLogWriter* log);

  // Rebuilds the observations of a recorded run from its bundle (samples.csv.gz and
  // scrapes.txt.gz), so it can be judged again with no services. A log cut short (a killed
  // run) gives what it holds. Throws UsageError naming the file when a log is missing, not a
  // log, malformed or damaged.
  // With `scrapes` false only the samples are read (the server side then comes from
  // elsewhere: `faultline judge --prometheus`).
  RecordedLogs load_recorded_logs(const std::string& bundle_dir, bool scrapes = true);
  // load_recorded_logs, with a note for people: "" when both logs are complete, else one that
  // says the run was cut short and names each log cut with how many records it gave.
  std::string load_recorded(const std::string& bundle_dir);

  // A scrape result for `job` at tick `tick_index` (index into ticks given at construction
  // via Plan::scrape_ticks or add_ticks). `body` is the /metrics text, or `error` is set.
  void scrape_done(const std::string& job, size_t tick_index, const std::vector<Duration>& ticks,
                   std::optional<std::string> body, std::string error);

  judge::Observed client(const judge::TimeWindow& window,
                         const judge::ClientQuery& query) const override;
  judge::Observed server(const judge::TimeWindow& window,
                         const judge::ServerQuery& query) const override;
  judge::Observed run_fact(const dsl::RunFactQuery& query) const override;
  // From the pseudo-target kAlertsJob: the ALERTS series a Prometheus pull recorded.
  judge::AlertReads alert(const judge::TimeWindow& window, const std::string& name) const override;

  // The verify hooks' outcomes, once they ran (or as read back from a bundle): keeps their
  // output for verify.* reads and computes the id history from the plan's history source.
  // Until it is called, history.* and verify.* have no value.
  void set_verify_outcomes(const std::vector<HookRecord>& verify_hooks);
  // Reads the plan's verify hooks back from a bundle (hooks/<name>.status.json and .out) and
  // calls set_verify_outcomes; a hook missing from the bundle has no output, with the reason.
  void load_recorded_hooks(const std::string& bundle_dir);
  judge::RunFacts run_facts() const;

  // Copies for reporting once the run is over (or a consistent snapshot during it).
  observe::ClientStats client_stats() const;
  const observe::ScrapeStore& scrapes_unlocked() const { return scrapes_; }

  // Live figures for progress: p95 (seconds) and error rate of `phase` so far.
  std::pair<std::optional<double>, std::optional<double>> live_phase(
      const std::string& phase) const;

 private:
  struct PendingScrape {
    std::optional<std::string> body;
    std::string error;
  };
  observe::ClientSelection selection_for(const judge::TimeWindow& window,
                                         const judge::ClientQuery& query,
                                         std::string* problem) const;

  const Plan& plan_;
  std::vector<judge::TimeWindow> extra_windows_;
  mutable std::mutex mutex_;
  observe::ClientStats client_;
  observe::ScrapeStore scrapes_;
  // Per job: next tick index to store, and results that arrived ahead of it.
  std::map<std::string, size_t> next_tick_;
  std::map<std::string, std::map<size_t, PendingScrape>> ahead_;
  observe::ScrapeLogWriter* scrape_log_ = nullptr;
  // The id history's acknowledged side: routes with an ack_id, and what their 2xx gave.
  std::set<std::string> ack_routes_;
  std::vector<std::pair<uint64_t, std::string>> acknowledged_;  // (seq, id)
  int64_t ack_missing_ = 0;
  judge::RunFacts facts_;
};

// The scrape target under which a run records the ALERTS series it read from Prometheus (a
// name no service can have: service names are letters, digits, '_' and '-').
inline constexpr const char* kAlertsJob = "@alerts";

// The key under which ClientStats holds an extra window.
std::string window_key(const judge::TimeWindow& w);

}  // namespace faultline
