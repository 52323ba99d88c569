// The runner: `faultline run`. Loads and compiles the scenario, brings up its environment,
// checks the fault endpoints, drives the plan (traffic, fault steps with leases, scrapes,
// abort_if), undoes every fault whatever happens, judges the assertions and writes the
// artifact. The only stage that does I/O; everything it calls before and after is pure.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "plan/plan.h"
#include "report/report.h"
#include "run/progress.h"
#include "spec/environment.h"
#include "spec/loader.h"

namespace faultline {

struct RunOptions {
  std::string spec_path;
  LoadOptions load;                                  // --set, --env
  PlanOverrides overrides;                           // --seed, --qps, --duration
  std::map<std::string, std::string> override_text;  // as given, for the report
  std::string tag;                                   // --tag
  std::string artifacts_dir = "artifacts";
  Duration lease{std::chrono::seconds(6)};  // fault lease; renewed every lease/2
  ProgressMode progress = ProgressMode::kAuto;
  std::string command_line;
  // --shard i/N: this process sends only the arrivals whose seq % shard_count == shard_index
  // (the plan and its hash are unchanged). Shard 0 alone applies faults, scrapes and runs
  // hooks; no shard judges (faultline merge judges the union). shard_count 1: a whole run.
  uint32_t shard_index = 0;
  uint32_t shard_count = 1;
  // --threads: load-engine loop threads; 0 takes traffic.threads, or automatic.
  uint32_t threads = 0;
};

// Automatic traffic.threads: one loop thread per this many requests/s of peak rate. One loop
// sends about 50k/s to nginx on this project's reference 2-core machine (bench/loadgen-vs-wrk);
// half of that leaves it headroom for answers, scrapes and the recording.
inline constexpr double kArrivalsPerLoopThread = 25000;

struct RunOutcome {
  int exit_code = 0;
  std::string artifact_path;  // empty when the spec was invalid (nothing ran)
  std::string schedule_sha256;
  bool schedule_matched = false;  // replays: the sent schedule equals the recorded one
  // What the artifact holds, for the CLI's other outputs (JUnit, summary, JSON); null when
  // nothing ran.
  std::shared_ptr<const RunReport> report;
};

// Runs the scenario. Messages go to `out` (summary, progress) and `err` (diagnostics).
RunOutcome run_scenario(const RunOptions& options, std::FILE* out, std::FILE* err);

// The recorded run a replay re-sends (empty for a normal run).
struct ReplaySource {
  std::string artifact;         // path of the source artifact
  std::string schedule_sha256;  // its schedule checksum
  uint64_t arrivals = 0;        // how many arrivals it handed out
};

// Runs a compiled plan in `env`: what run_scenario does after compiling, and what replay does
// with a plan rebuilt from a bundle. `options.spec_path`, load and overrides are not used.
RunOutcome execute_plan(const Plan& plan, const Environment& env, const std::string& spec_path,
                        const RunOptions& options, const ReplaySource& replay, std::FILE* out,
                        std::FILE* err);

}  // namespace faultline
