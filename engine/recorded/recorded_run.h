// A recorded run: an artifact, its bundle and the plan in it, loaded back so the run can be
// judged again, compared with another, or replayed, without its spec and with no services.
//
// Everything read here comes from outside the process and may be damaged, cut short or
// hostile: JSON goes through common/json_parse.h (depth-limited), and every problem is a
// UsageError (exit 2) that names the file and what is wrong.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plan/plan.h"
#include "recorded/bundle.h"
#include "recorded/run_observations.h"

namespace faultline {

struct RecordedRun {
  std::string artifact_path;  // the artifact; for a bundle without one, the bundle directory
  bool has_artifact = true;   // false: the run never wrote its artifact (it was killed)
  std::string bundle_dir;     // absolute or relative to the current directory
  std::string scenario, tag, status, started_at, ended_at, spec_path, environment_path;
  std::string schedule_sha256;
  uint64_t arrivals = 0;
  std::optional<Duration> planned_duration, actual_duration;  // absent when not recorded
  int64_t plan_zero_unix_ms = 0;                              // 0: not recorded
  Plan plan;  // rebuilt from the bundle's plan.json, hash checked
};

// The status given to a bundle that has no artifact.
inline constexpr const char* kUnfinishedStatus = "unfinished";

// Writes the plan into the bundle (pretty JSON with its hash), atomically.
void write_bundle_plan(const BundleLayout& bundle, const Plan& plan);

// The fields of an artifact from its text, touching no disk: bundle_dir is resolved against
// the directory of `artifact_path`, the plan is left empty. Throws UsageError naming
// `artifact_path` when the text is not a run artifact (JSON nested too deep included).
RecordedRun parse_artifact(std::string_view text, const std::string& artifact_path);

// Reads an artifact and the plan of its bundle; or, given a bundle directory (a run killed
// before it wrote its artifact), the plan alone, with status kUnfinishedStatus. Throws
// UsageError with the path and what is wrong (not an artifact, bundle missing, plan damaged).
RecordedRun load_recorded_run(const std::string& path);

// Why the recording of `run` stops before the end of its plan, from the artifact alone: no
// artifact, aborted, interrupted, an environment error, an artifact with no final status
// (passed, failed, inconclusive). "" when the run ran to its end.
std::string cut_short_reason(const RecordedRun& run);

// The observations of a recorded run (samples and scrapes from its bundle), ready to judge.
// `note` receives "" for a run recorded to its end, else a note that says the run was cut
// short, why (cut_short_reason) and which logs end early after how many records. Throws
// UsageError naming the file when a log is missing or damaged.
// With `scrapes` false the server side is left empty (to be read from Prometheus).
std::unique_ptr<RunObservations> recorded_observations(const RecordedRun& run, std::string* note,
                                                       bool scrapes = true);

// The artifacts in `dir` for `scenario` with `tag` ("" matches runs without a tag), newest
// first (by the UTC timestamp in the file name). Unreadable files are skipped.
std::vector<std::string> find_artifacts(const std::string& dir, const std::string& scenario,
                                        const std::string& tag);

}  // namespace faultline
