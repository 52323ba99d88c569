#include "recorded/shards.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <filesystem>

#include "common/error.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "observe/sample_log.h"

namespace faultline {

namespace {

namespace fs = std::filesystem;

std::string shard_json_path(const BundleLayout& bundle) {
  return bundle.dir + "/shard.json";
}

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;  // paths and hashes have none
    out += c;
  }
  return out + "\"";
}

// Copies `from` (a file or directory) to `to` if it exists. Throws EnvironmentError.
void copy_if_present(const std::string& from, const std::string& to) {
  std::error_code ec;
  if (!fs::exists(from, ec)) return;
  fs::create_directories(fs::path(to).parent_path(), ec);
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  if (ec) throw EnvironmentError("cannot copy " + from + " to " + to + ": " + ec.message());
}

}  // namespace

std::optional<ShardInfo> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) return std::nullopt;
  const std::string a = text.substr(0, slash), b = text.substr(slash + 1);
  if (a.size() > 4 || b.size() > 4 ||
      !std::all_of(a.begin(), a.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      !std::all_of(b.begin(), b.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  ShardInfo s;
  s.index = static_cast<uint32_t>(std::stoul(a));
  s.count = static_cast<uint32_t>(std::stoul(b));
  if (s.count < 1 || s.count > kMaxShards || s.index >= s.count) return std::nullopt;
  return s;
}

void write_shard_info(const BundleLayout& bundle, const ShardInfo& shard) {
  write_file_atomically(shard_json_path(bundle),
                        "{\"shard\": " + std::to_string(shard.index) +
                            ", \"of\": " + std::to_string(shard.count) +
                            ", \"plan_hash\": " + json_quote(shard.plan_hash) + "}\n");
}

std::optional<ShardInfo> read_shard_info(const BundleLayout& bundle, std::string* why) {
  const auto text = read_whole_file(shard_json_path(bundle));
  if (!text) {
    *why = "its bundle has no shard.json: it is not a shard (run with --shard i/N)";
    return std::nullopt;
  }
  rapidjson::Document doc;
  if (!parse_json(*text, &doc) || !doc.IsObject() || !doc.HasMember("shard") ||
      !doc["shard"].IsUint() || !doc.HasMember("of") || !doc["of"].IsUint() ||
      !doc.HasMember("plan_hash") || !doc["plan_hash"].IsString()) {
    *why = shard_json_path(bundle) + " is damaged";
    return std::nullopt;
  }
  ShardInfo s{doc["shard"].GetUint(), doc["of"].GetUint(), doc["plan_hash"].GetString()};
  if (s.count < 1 || s.count > kMaxShards || s.index >= s.count) {
    *why = shard_json_path(bundle) + " names no valid shard";
    return std::nullopt;
  }
  return s;
}

MergedShards merge_shards(const std::vector<RecordedRun>& shards, const BundleLayout& out) {
  if (shards.empty()) throw UsageError("merge needs the artifacts of every shard");
  std::vector<const RecordedRun*> by_index;
  uint32_t count = 0;
  std::string hash;
  for (const RecordedRun& run : shards) {
    std::string why;
    const auto info = read_shard_info(BundleLayout{run.bundle_dir}, &why);
    if (!info) throw UsageError(run.artifact_path + ": " + why);
    if (info->plan_hash != run.plan.plan_hash)
      throw UsageError(run.artifact_path + ": shard.json names plan " +
                       info->plan_hash.substr(0, 12) + " but its plan.json is plan " +
                       run.plan.plan_hash.substr(0, 12) + "; the bundle is damaged");
    if (by_index.empty()) {
      count = info->count;
      hash = run.plan.plan_hash;
      by_index.assign(count, nullptr);
    } else if (run.plan.plan_hash != hash) {
      throw UsageError(run.artifact_path + " is a shard of plan " +
                       run.plan.plan_hash.substr(0, 12) + ", not of plan " + hash.substr(0, 12) +
                       " like " + shards.front().artifact_path +
                       ": shards of different plans do not merge");
    } else if (info->count != count) {
      throw UsageError(run.artifact_path + " is shard " + std::to_string(info->index) + "/" +
                       std::to_string(info->count) + ", but " + shards.front().artifact_path +
                       " is one of " + std::to_string(count) + " shards");
    }
    if (by_index[info->index])
      throw UsageError("shard " + std::to_string(info->index) + "/" + std::to_string(count) +
                       " is given twice: " + by_index[info->index]->artifact_path + " and " +
                       run.artifact_path);
    by_index[info->index] = &run;
  }
  std::string missing;
  for (uint32_t i = 0; i < count; ++i)
    if (!by_index[i]) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
  if (!missing.empty())
    throw UsageError("missing shard" +
                     std::string(missing.find(',') != std::string::npos ? "s " : " ") + missing +
                     " of " + std::to_string(count) + " (plan " + hash.substr(0, 12) +
                     "): merge needs every shard's artifact");

  MergedShards merged;
  merged.count = count;
  const RecordedRun& first = *by_index[0];
  write_bundle_plan(out, first.plan);

  // The union of the samples, in seq order (each shard's log is in completion order).
  std::vector<observe::SampleRecord> records;
  for (uint32_t i = 0; i < count; ++i) {
    const RecordedRun& run = *by_index[i];
    merged.sources.push_back(run.artifact_path);
    const std::string reason = cut_short_reason(run);
    if (!reason.empty())
      merged.notes +=
          (merged.notes.empty() ? "" : "; ") + ("shard " + std::to_string(i) + ": " + reason);
    try {
      observe::SampleLogReader reader(BundleLayout{run.bundle_dir}.samples());
      observe::SampleRecord r;
      while (reader.next(r)) records.push_back(r);
      if (reader.truncated())
        merged.notes += (merged.notes.empty() ? "" : "; ") +
                        ("shard " + std::to_string(i) + ": samples.csv.gz is cut short");
    } catch (const observe::LogFileError& e) {
      throw UsageError(std::string(e.what()) + ": the shard's bundle is damaged");
    }
  }
  std::stable_sort(records.begin(), records.end(),
                   [](const auto& a, const auto& b) { return a.seq < b.seq; });
  {
    observe::SampleLogWriter writer(out.samples());
    for (const auto& r : records) writer.append(r);
    writer.close();
  }
  merged.samples = records.size();

  // Shard 0 observed the server side, applied the faults and ran the hooks.
  const BundleLayout src{first.bundle_dir};
  copy_if_present(src.scrape_log(), out.scrape_log());
  copy_if_present(src.snapshots_dir(), out.snapshots_dir());
  copy_if_present(src.hooks_dir(), out.hooks_dir());
  for (uint32_t i = 0; i < count; ++i)
    copy_if_present(BundleLayout{by_index[i]->bundle_dir}.logs_dir(),
                    out.logs_dir() + "/shard-" + std::to_string(i));

  std::string json = "{\"merged_from\": " + std::to_string(count) +
                     ", \"plan_hash\": " + json_quote(hash) + ", \"shards\": [";
  for (uint32_t i = 0; i < count; ++i) json += (i ? ", " : "") + json_quote(merged.sources[i]);
  write_file_atomically(out.dir + "/merged.json", json + "]}\n");
  return merged;
}

}  // namespace faultline
