// faultline merge: put the shards of one load (faultline run --shard i/N) back together and
// judge them as the single run of the plan they split: the union of the samples, shard 0's
// scrapes, fault events and hooks. Writes one run artifact and bundle, marked as merged.
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cstdio>
#include <cxxopts.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/outputs.h"
#include "cli/plan_flags.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "common/sha256.h"
#include "common/version.h"
#include "plan/arrival_stream.h"
#include "plan/plan_json.h"
#include "recorded/recorded_run.h"
#include "recorded/shards.h"
#include "report/report_json.h"
#include "report/summary.h"
#include "run/run_report.h"

namespace faultline::cli {
namespace {

// A shard status that says the shard did not run to its end, as a RunStatus.
std::optional<RunStatus> cut_status(const std::string& status) {
  if (status == "aborted") return RunStatus::kAborted;
  if (status == "interrupted") return RunStatus::kInterrupted;
  if (status == "environment-error") return RunStatus::kEnvironmentError;
  if (status == "passed" || status == "failed" || status == "inconclusive") return std::nullopt;
  return RunStatus::kEnvironmentError;  // unfinished (killed) or unknown
}

// The checksum a single run of `plan` would give after handing out its first `arrivals`.
std::string schedule_sha256_of(const Plan& plan, uint64_t arrivals) {
  ArrivalStream stream(plan);
  Sha256 hash;
  for (uint64_t i = 0; i < arrivals; ++i) {
    auto a = stream.next();
    if (!a) break;
    hash.update(arrival_to_json(*a));
    hash.update("\n");
  }
  return hash.hex_digest();
}

// The merged report with shard 0's own records (services it used, fault events, hooks),
// which only that shard has, copied from its artifact.
std::string with_shard0_records(const std::string& merged_json, const std::string& shard0_path) {
  const auto text = read_whole_file(shard0_path);
  rapidjson::Document merged, shard0;
  if (!text || !parse_json(*text, &shard0) || !shard0.IsObject() ||
      !parse_json(merged_json, &merged) || !merged.IsObject())
    return merged_json;
  auto& alloc = merged.GetAllocator();
  for (const char* k : {"fault_events", "faults_undone", "hooks"})
    if (shard0.HasMember(k) && merged.HasMember(k)) merged[k].CopyFrom(shard0[k], alloc);
  if (shard0.HasMember("meta") && shard0["meta"].IsObject() &&
      shard0["meta"].HasMember("services") && merged["meta"].HasMember("services"))
    merged["meta"]["services"].CopyFrom(shard0["meta"]["services"], alloc);
  rapidjson::StringBuffer buf;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
  w.SetIndent(' ', 2);
  merged.Accept(w);
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

int merge_command(int argc, char** argv) {
  cxxopts::Options opts(
      "faultline merge",
      "Merge the artifacts of the N shards of one load (faultline run --shard i/N) into one "
      "run\nartifact and bundle, and judge it exactly as a single run of the plan: the union "
      "of\nthe samples, and shard 0's scrapes, fault events and hooks. Exit codes as run.\n");
  opts.custom_help("ARTIFACT.json|BUNDLE_DIR... [options]");
  opts.add_options()("artifacts", "directory for the merged artifact and its bundle",
                     cxxopts::value<std::string>()->default_value("artifacts"))(
      "h,help", "show this help")("inputs", "", cxxopts::value<std::vector<std::string>>());
  add_output_flags(opts);
  opts.parse_positional({"inputs"});
  auto result = parse_or_usage(opts, argc, argv);
  if (result.count("help")) {
    std::cout << opts.help()
              << "\nExample:\n  faultline merge artifacts/shard-*/incident-*.json "
                 "--artifacts artifacts/merged\n";
    return 0;
  }
  if (!result.count("inputs"))
    throw UsageError("merge needs the artifacts of every shard: faultline merge ARTIFACT...");
  const OutputFlags outputs = read_output_flags(result);
  std::FILE* out = human_out(outputs);
  std::vector<RecordedRun> shards;
  for (const auto& path : result["inputs"].as<std::vector<std::string>>())
    shards.push_back(load_recorded_run(path));

  const Plan& plan = shards.front().plan;
  const RunFiles files = create_run_files(result["artifacts"].as<std::string>(), plan.scenario_name,
                                          std::chrono::system_clock::now());
  const MergedShards merged = merge_shards(shards, files.bundle);
  const RecordedRun* first = nullptr;
  for (const auto& s : shards)
    if (s.artifact_path == merged.sources.front()) first = &s;

  RunOptions ro;
  ro.tag = first->tag;
  for (int i = 0; i < argc; ++i) ro.command_line += (i ? " " : "faultline ") + std::string(argv[i]);
  ro.override_text["merged_from"] = std::to_string(merged.count) + " shards";
  RunReport report = start_report(plan, first->spec_path, ro, files.stem);
  report.environment_path = first->environment_path;
  report.faultline_version = version();
  report.started_at = first->started_at;
  report.ended_at = first->ended_at;
  Duration longest{0};
  std::optional<RunStatus> cut;
  std::string cut_detail;
  for (const auto& s : shards) {
    report.arrivals += s.arrivals;
    if (s.actual_duration) longest = std::max(longest, *s.actual_duration);
    if (s.ended_at > report.ended_at) report.ended_at = s.ended_at;
    if (auto c = cut_status(s.status); c && !cut) {
      cut = c;
      cut_detail = s.artifact_path + ": " + cut_short_reason(s);
    }
  }
  report.actual_duration = longest;
  report.schedule_sha256 = schedule_sha256_of(plan, report.arrivals);

  RecordedRun whole = *first;
  whole.bundle_dir = files.bundle.dir;
  whole.arrivals = report.arrivals;
  std::string note;
  const auto obs = recorded_observations(whole, &note);
  {
    const judge::RunFacts facts = obs->run_facts();
    report.history = facts.history;
    report.no_history = facts.no_history;
  }
  summarize_run(report, plan, *obs, obs->client_stats(), true);
  summarize_scrape_failures(report, plan, obs->scrapes_unlocked());
  if (cut) {
    report.status = *cut;
    report.status_detail = "a shard did not run to its end (" + cut_detail + ")";
  }
  report.exit_code = exit_code_of(report.status);
  report.bundle_files = list_bundle_files(files.bundle);
  const std::string json = with_shard0_records(report_to_json(report), first->artifact_path);
  write_file_atomically(files.artifact, json);
  std::fprintf(out, "merged %u shards of plan %s: %llu samples\n", merged.count,
               plan.plan_hash.substr(0, 12).c_str(),
               static_cast<unsigned long long>(merged.samples));
  if (!merged.notes.empty()) std::fprintf(out, "note: %s\n", merged.notes.c_str());
  if (!note.empty()) std::fprintf(out, "note: %s\n", note.c_str());
  print_summary(out, report, files.artifact);
  finish_run_outputs(report, files.artifact, outputs, json);
  return report.exit_code;
}

const CommandRegistration kMerge({"merge",
                                  "merge the shards of one load (run --shard) and judge them", 36,
                                  &merge_command});

}  // namespace
}  // namespace faultline::cli
