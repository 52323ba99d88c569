#include "recorded/recorded_run.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <filesystem>

#include "common/error.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "plan/plan_json.h"
#include "recorded/bundle.h"

namespace faultline {

namespace {

namespace fs = std::filesystem;

std::string member(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return "";
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return "";
  return {it->value.GetString(), it->value.GetStringLength()};
}

std::optional<Duration> duration_member(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return std::nullopt;
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return Duration{it->value.GetInt64()};
}

// The plan of the bundle in `bundle_dir`, or a UsageError that names plan.json and says why.
Plan read_bundle_plan(const std::string& bundle_dir, const std::string& whose) {
  const std::string path = BundleLayout{bundle_dir}.plan_json();
  const auto text = read_whole_file(path);
  if (!text)
    throw UsageError(whose + ": its bundle " + bundle_dir +
                     " (with plan.json) is missing; artifacts are judged from their bundle");
  try {
    return plan_from_json(*text);
  } catch (const UsageError& e) {
    throw UsageError(path + ": " + e.what() + "; the run's bundle is damaged");
  }
}

bool ran_to_its_end(const std::string& status) {
  return status == "passed" || status == "failed" || status == "inconclusive";
}

}  // namespace

void write_bundle_plan(const BundleLayout& bundle, const Plan& plan) {
  write_file_atomically(bundle.plan_json(), plan_to_json(plan, 0, true) + "\n");
}

RecordedRun parse_artifact(std::string_view text, const std::string& artifact_path) {
  rapidjson::Document doc;
  JsonParseError error;
  if (!parse_json(text, &doc, &error))
    throw UsageError(artifact_path + " is not a faultline run artifact: " + error.describe());
  if (!doc.IsObject() || !doc.HasMember("meta") || !doc.HasMember("bundle"))
    throw UsageError(artifact_path + " is not a faultline run artifact (no meta and bundle)");
  RecordedRun run;
  run.artifact_path = artifact_path;
  const auto& meta = doc["meta"];
  run.scenario = member(meta, "scenario");
  run.tag = member(meta, "tag");
  run.started_at = member(meta, "started_at");
  run.ended_at = member(meta, "ended_at");
  run.spec_path = member(meta, "spec_path");
  run.environment_path = member(meta, "environment_path");
  run.schedule_sha256 = member(meta, "schedule_sha256");
  run.planned_duration = duration_member(meta, "planned_duration_us");
  run.actual_duration = duration_member(meta, "actual_duration_us");
  if (meta.IsObject() && meta.HasMember("plan_zero_unix_ms") && meta["plan_zero_unix_ms"].IsInt64())
    run.plan_zero_unix_ms = meta["plan_zero_unix_ms"].GetInt64();
  if (meta.IsObject() && meta.HasMember("arrivals") && meta["arrivals"].IsUint64())
    run.arrivals = meta["arrivals"].GetUint64();
  run.status = member(doc, "status");
  const std::string dir = member(doc["bundle"], "dir");
  if (dir.empty())
    throw UsageError(artifact_path + " names no bundle (bundle.dir); artifacts are judged " +
                     "from their bundle");
  run.bundle_dir = (fs::path(artifact_path).parent_path() / dir).string();
  return run;
}

RecordedRun load_recorded_run(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    // A bundle whose run never got to write its artifact: everything but the plan and the
    // logs is unknown.
    RecordedRun run;
    run.artifact_path = path;
    run.has_artifact = false;
    run.bundle_dir = path;
    run.status = kUnfinishedStatus;
    run.plan = read_bundle_plan(path, path);
    run.scenario = run.plan.scenario_name;
    return run;
  }
  const auto text = read_whole_file(path);
  if (!text) throw UsageError("cannot read artifact " + path);
  RecordedRun run = parse_artifact(*text, path);
  run.plan = read_bundle_plan(run.bundle_dir, path);
  return run;
}

std::string cut_short_reason(const RecordedRun& run) {
  if (!run.has_artifact) return "no artifact was written: the run was killed before its end";
  std::string after;
  if (run.actual_duration) {
    after = " after " + format_duration(*run.actual_duration);
    if (run.planned_duration) after += " of " + format_duration(*run.planned_duration);
  }
  if (run.status == "aborted") return "an abort_if condition stopped it" + after;
  if (run.status == "interrupted") return "it was interrupted" + after;
  if (run.status == "environment-error") return "it ended with an environment error" + after;
  // The artifact is written whole at the end (write_file_atomically), so its status is what
  // says whether the run got there; one without a final status was not written by a run that
  // ended.
  if (run.status.empty()) return "its artifact has no status";
  if (!ran_to_its_end(run.status))
    return "its artifact says status '" + run.status + "', not the end of a run";
  return "";
}

std::unique_ptr<RunObservations> recorded_observations(const RecordedRun& run, std::string* note,
                                                       bool scrapes) {
  auto obs = std::make_unique<RunObservations>(run.plan, judging_windows(run.plan),
                                               run.plan.metrics_of_interest);
  const RecordedLogs logs = obs->load_recorded_logs(run.bundle_dir, scrapes);
  obs->load_recorded_hooks(run.bundle_dir);
  const std::string reason = cut_short_reason(run);
  if (note) {
    note->clear();
    if (!reason.empty() || logs.cut()) {
      *note = "the run was cut short";
      if (!reason.empty()) *note += " (" + reason + ")";
      if (logs.cut()) *note += ": " + logs.describe_cut();
      *note += "; judged on what was recorded";
    }
  }
  return obs;
}

std::vector<std::string> find_artifacts(const std::string& dir, const std::string& scenario,
                                        const std::string& tag) {
  std::vector<std::pair<std::string, std::string>> found;  // (started_at + name, path)
  std::error_code ec;
  const std::string prefix = "incident-" + scenario + "-";
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".json" || name.rfind(prefix, 0) != 0) continue;
    const auto text = read_whole_file(e.path().string());
    if (!text) continue;
    rapidjson::Document doc;
    if (!parse_json(*text, &doc) || !doc.IsObject() || !doc.HasMember("meta")) continue;
    if (member(doc["meta"], "scenario") != scenario || member(doc["meta"], "tag") != tag) continue;
    found.emplace_back(member(doc["meta"], "started_at") + name, e.path().string());
  }
  std::sort(found.begin(), found.end(), std::greater<>());
  std::vector<std::string> paths;
  for (auto& [key, path] : found) paths.push_back(std::move(path));
  return paths;
}

}  // namespace faultline
