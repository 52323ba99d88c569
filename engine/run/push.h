// Pushing a run's results to a Prometheus Pushgateway (`faultline run --push URL`), so nightly
// results chart over time next to the services' own metrics. The Pushgateway is a reporting
// sink, not a target: no traffic or fault goes there. Still, by the same conservative rule as
// targets, only a loopback Pushgateway is accepted unless the caller allows remote ones.
//
// What is pushed comes from the run's artifact (schemas/report.schema.json), so the matrix can
// push any cell's artifact after the fact, and a push says exactly what the artifact says.
// Metric names and labels are documented in docs/running.md, "Pushing results".
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {

// Where to push and under which grouping key. The group is job="faultline" plus scenario
// (from the artifact) plus `labels` (e.g. cell=latency-100ms): a push replaces every series of
// its group (HTTP PUT), so a group holds exactly one run's results, the latest.
struct PushTarget {
  std::string url;  // "http://127.0.0.1:9091": scheme, host and port; no path
  std::map<std::string, std::string> labels;  // extra grouping labels
  // How long to wait for the Pushgateway's answer. prometheus-cpp 1.0.1 sets no timeout on its
  // curl handle, so the push runs on a thread of its own that is abandoned (detached, still
  // owning what it uses) when this passes: a hung Pushgateway cannot hold the run forever.
  std::chrono::milliseconds timeout{10000};
};

// One pushed sample: a gauge name, its labels (beyond the grouping key) and value.
struct PushSample {
  std::string name;  // "faultline_phase_requests_sent"
  std::map<std::string, std::string> labels;
  double value = 0;
};

// What is wrong with `target` as a push destination, or nullopt when it is usable: the URL must
// be http:// with a host and no path, query or user info; the host must be loopback (127.0.0.0/8,
// ::1, localhost) unless `allow_remote`; label names are Prometheus names (not "job" or
// "scenario", which faultline sets) and label values are non-empty and made of letters, digits
// and "_.:-" (they become path segments of the Pushgateway URL).
std::optional<std::string> push_target_problem(const PushTarget& target, bool allow_remote);

// The samples a push of this artifact sends (pure: no I/O), and the scenario it is grouped
// under. Throws UsageError when `artifact_json` is not a run artifact.
std::vector<PushSample> push_samples_from_artifact(std::string_view artifact_json,
                                                   std::string* scenario);

// Reads the artifact at `artifact_path` and pushes its samples to `target` (PUT to
// <url>/metrics/job/faultline/scenario/<scenario>[/<label>/<value>...]). Returns "" on
// success, else why it failed (unreadable artifact, connection refused, HTTP status).
// REQUIRES: push_target_problem(target, ...) is nullopt.
std::string push_artifact(const std::string& artifact_path, const PushTarget& target);

}  // namespace faultline
