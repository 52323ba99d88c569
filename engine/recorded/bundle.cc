#include "recorded/bundle.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>

#include <rapidjson/document.h>

#include "common/error.h"
#include "common/file_io.h"
#include "common/json_out.h"
#include "common/json_parse.h"

namespace faultline {

namespace fs = std::filesystem;

std::string BundleLayout::snapshot(const std::string& job, Duration at) const {
  return snapshots_dir() + "/" + job + "-" + format_duration(at) + ".prom";
}

std::string utc_stamp(std::chrono::system_clock::time_point t, bool compact) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, compact ? "%Y%m%dT%H%M%SZ" : "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

RunFiles create_run_files(const std::string& dir, const std::string& scenario,
                          std::chrono::system_clock::time_point started) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw EnvironmentError("cannot create the artifacts directory " + dir + ": " + ec.message());
  const std::string base = "incident-" + scenario + "-" + utc_stamp(started, true);
  RunFiles files;
  files.stem = base;
  for (int n = 2;
       fs::exists(dir + "/" + files.stem + ".json") || fs::exists(dir + "/" + files.stem); ++n)
    files.stem = base + "-" + std::to_string(n);
  files.artifact = dir + "/" + files.stem + ".json";
  files.bundle.dir = dir + "/" + files.stem;
  for (const std::string& d : {files.bundle.logs_dir(), files.bundle.snapshots_dir()}) {
    fs::create_directories(d, ec);
    if (ec) throw EnvironmentError("cannot create " + d + ": " + ec.message());
  }
  return files;
}

std::string new_artifact_path(const std::string& dir, const std::string& prefix,
                              const std::string& scenario,
                              std::chrono::system_clock::time_point t) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw EnvironmentError("cannot create " + dir + ": " + ec.message());
  const std::string stem = dir + "/" + prefix + "-" + scenario + "-" + utc_stamp(t, true);
  std::string path = stem + ".json";
  for (int n = 2; fs::exists(path); ++n) path = stem + "-" + std::to_string(n) + ".json";
  return path;
}

std::vector<std::string> list_bundle_files(const BundleLayout& bundle) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(bundle.dir, ec))
    if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), bundle.dir).string());
  std::sort(files.begin(), files.end());
  return files;
}

bool save_scrape_snapshot(const BundleLayout& bundle, const std::string& job, Duration at,
                          const std::string& body) {
  std::ofstream f(bundle.snapshot(job, at), std::ios::binary);
  f << body;
  return static_cast<bool>(f);
}

void write_hook_status(const BundleLayout& bundle, const HookRecord& hook) {
  JsonOut j(JsonOut::kPretty);
  j.begin_object();
  j.member("name", hook.name);
  j.member("stage", hook.stage);
  j.member("kind", hook.kind);
  j.member("ok", hook.ok);
  j.member("attempts", static_cast<int64_t>(hook.attempts));
  j.member("exit_code", static_cast<int64_t>(hook.exit_code));
  j.member("http_status", static_cast<int64_t>(hook.http_status));
  j.member("elapsed_us", static_cast<int64_t>(hook.elapsed.count()));
  j.member("error", hook.error);
  j.end_object();
  write_file_atomically(bundle.hook_status(hook.name), j.text() + "\n");
}

std::optional<HookRecord> read_hook_record(const BundleLayout& bundle, const std::string& name,
                                           std::string* why) {
  const std::optional<std::string> text = read_whole_file(bundle.hook_status(name));
  if (!text) {
    *why = "hooks/" + name + ".status.json is not in the bundle";
    return std::nullopt;
  }
  rapidjson::Document doc;
  if (!parse_json(*text, &doc) || !doc.IsObject()) {
    *why = "hooks/" + name + ".status.json is damaged";
    return std::nullopt;
  }
  auto str = [&](const char* k) {
    auto it = doc.FindMember(k);
    return it != doc.MemberEnd() && it->value.IsString()
               ? std::string(it->value.GetString(), it->value.GetStringLength())
               : std::string();
  };
  auto num = [&](const char* k) -> int64_t {
    auto it = doc.FindMember(k);
    return it != doc.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
  };
  HookRecord h;
  h.name = name;
  h.stage = str("stage");
  h.kind = str("kind");
  auto ok = doc.FindMember("ok");
  h.ok = ok != doc.MemberEnd() && ok->value.IsBool() && ok->value.GetBool();
  h.attempts = static_cast<int>(num("attempts"));
  h.exit_code = static_cast<int>(num("exit_code"));
  h.http_status = num("http_status");
  h.elapsed = Duration{num("elapsed_us")};
  h.error = str("error");
  h.output_file = "hooks/" + name + ".out";
  if (std::optional<std::string> out = read_whole_file(bundle.hook_output(name))) {
    h.output = std::move(*out);
  } else if (h.ok) {
    *why = "hooks/" + name + ".out is not in the bundle";
    return std::nullopt;
  }
  return h;
}

}  // namespace faultline
