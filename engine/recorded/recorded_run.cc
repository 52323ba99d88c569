#include "recorded/recorded_run.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <filesystem>

#include "common/error.h"
#include "common/file_io.h"
#include "plan/plan_json.h"
#include "recorded/bundle.h"

namespace faultline {

namespace {

namespace fs = std::filesystem;

std::string member(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return "";
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return "";
  return it->value.GetString();
}

}  // namespace

void write_bundle_plan(const BundleLayout& bundle, const Plan& plan) {
  write_file_atomically(bundle.plan_json(), plan_to_json(plan, 0, true) + "\n");
}

RecordedRun load_recorded_run(const std::string& artifact_path) {
  const auto text = read_whole_file(artifact_path);
  if (!text) throw UsageError("cannot read artifact " + artifact_path);
  rapidjson::Document doc;
  doc.Parse(text->c_str(), text->size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("meta") || !doc.HasMember("bundle"))
    throw UsageError(artifact_path + " is not a faultline run artifact");
  RecordedRun run;
  run.artifact_path = artifact_path;
  const auto& meta = doc["meta"];
  run.scenario = member(meta, "scenario");
  run.tag = member(meta, "tag");
  run.started_at = member(meta, "started_at");
  run.spec_path = member(meta, "spec_path");
  run.environment_path = member(meta, "environment_path");
  run.schedule_sha256 = member(meta, "schedule_sha256");
  if (meta.HasMember("arrivals") && meta["arrivals"].IsUint64())
    run.arrivals = meta["arrivals"].GetUint64();
  run.status = member(doc, "status");
  const std::string dir = member(doc["bundle"], "dir");
  run.bundle_dir = (fs::path(artifact_path).parent_path() / dir).string();
  const auto plan_json = read_whole_file(BundleLayout{run.bundle_dir}.plan_json());
  if (dir.empty() || !plan_json)
    throw UsageError(artifact_path + ": its bundle " + run.bundle_dir +
                     " (with plan.json) is missing; artifacts are judged from their bundle");
  run.plan = plan_from_json(*plan_json);
  return run;
}

std::unique_ptr<RunObservations> recorded_observations(const RecordedRun& run, std::string* note) {
  auto obs = std::make_unique<RunObservations>(run.plan, judging_windows(run.plan),
                                               run.plan.metrics_of_interest);
  const std::string remark = obs->load_recorded(run.bundle_dir);
  if (note) *note = remark;
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
    doc.Parse(text->c_str(), text->size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("meta")) continue;
    if (member(doc["meta"], "scenario") != scenario || member(doc["meta"], "tag") != tag) continue;
    found.emplace_back(member(doc["meta"], "started_at") + name, e.path().string());
  }
  std::sort(found.begin(), found.end(), std::greater<>());
  std::vector<std::string> paths;
  for (auto& [key, path] : found) paths.push_back(std::move(path));
  return paths;
}

}  // namespace faultline
