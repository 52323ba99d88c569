// A recorded run: an artifact, its bundle and the plan in it, loaded back so the run can be
// judged again, compared with another, or replayed, without its spec and with no services.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "plan/plan.h"
#include "recorded/bundle.h"
#include "recorded/run_observations.h"

namespace faultline {

struct RecordedRun {
  std::string artifact_path;
  std::string bundle_dir;  // absolute or relative to the current directory
  std::string scenario, tag, status, started_at, spec_path, environment_path;
  std::string schedule_sha256;
  uint64_t arrivals = 0;
  Plan plan;  // rebuilt from the bundle's plan.json, hash checked
};

// Writes the plan into the bundle (pretty JSON with its hash), atomically.
void write_bundle_plan(const BundleLayout& bundle, const Plan& plan);

// Reads an artifact and the plan of its bundle. Throws UsageError with the path and what is
// wrong (not an artifact, bundle missing, plan damaged).
RecordedRun load_recorded_run(const std::string& artifact_path);

// The observations of a recorded run (samples and scrapes from its bundle), ready to judge.
// `note` receives a remark when a log was cut short.
std::unique_ptr<RunObservations> recorded_observations(const RecordedRun& run, std::string* note);

// The artifacts in `dir` for `scenario` with `tag` ("" matches runs without a tag), newest
// first (by the UTC timestamp in the file name). Unreadable files are skipped.
std::vector<std::string> find_artifacts(const std::string& dir, const std::string& scenario,
                                        const std::string& tag);

}  // namespace faultline
