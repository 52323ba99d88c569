#include "recorded/bundle.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "common/error.h"

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

}  // namespace faultline
