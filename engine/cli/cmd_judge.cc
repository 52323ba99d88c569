// faultline judge: judge a recorded run again from its bundle, with no services and no
// network (after changing an assertion's threshold, or to check what a run really showed).
#include <cstdio>
#include <cxxopts.hpp>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/outputs.h"
#include "cli/plan_flags.h"
#include "common/error.h"
#include "recorded/recorded_run.h"
#include "report/report_json.h"
#include "report/summary.h"

namespace faultline::cli {
namespace {

int judge_command(int argc, char** argv) {
  cxxopts::Options opts("faultline judge",
                        "Judge the assertions of a recorded run again, from its artifact's "
                        "bundle (raw samples and\nscrapes): no services, no network. A run cut "
                        "short (aborted, interrupted, killed) is\njudged on what it recorded, "
                        "with a note; give the bundle directory of a run killed before\nit "
                        "wrote its artifact. Exit 0 when every assertion passes, 1 otherwise, 2 "
                        "when the\nartifact or its bundle is missing or damaged.\n");
  opts.custom_help("ARTIFACT.json | BUNDLE_DIR | SCENARIO [--tag T]");
  opts.add_options()("tag", "with a scenario name: the newest run with this tag",
                     cxxopts::value<std::string>()->default_value(""))(
      "artifacts", "where to look for runs by scenario name",
      cxxopts::value<std::string>()->default_value("artifacts"))("h,help", "show this help")(
      "what", "", cxxopts::value<std::string>());
  add_output_flags(opts);
  opts.parse_positional({"what"});
  auto result = parse_or_usage(opts, argc, argv);
  if (result.count("help")) {
    std::cout << opts.help();
    return 0;
  }
  if (!result.count("what")) throw UsageError("judge needs an artifact or a scenario name");
  const OutputFlags outputs = read_output_flags(result);
  std::FILE* out = human_out(outputs);
  std::string path = result["what"].as<std::string>();
  std::error_code ec;
  const bool is_file_or_bundle =
      std::filesystem::is_directory(path, ec) || (path.size() > 5 && path.ends_with(".json"));
  if (!is_file_or_bundle) {
    const auto found = find_artifacts(result["artifacts"].as<std::string>(), path,
                                      result["tag"].as<std::string>());
    if (found.empty())
      throw UsageError("no run of '" + path + "' with tag '" + result["tag"].as<std::string>() +
                       "' in " + result["artifacts"].as<std::string>() + "/");
    path = found.front();
  }
  const RecordedRun run = load_recorded_run(path);
  std::string note;
  const auto obs = recorded_observations(run, &note);
  std::fprintf(out, "judging %s (plan %s) from %s\n", run.scenario.c_str(),
               run.plan.plan_hash.substr(0, 12).c_str(), run.bundle_dir.c_str());
  if (!note.empty()) std::fprintf(out, "note: %s\n", note.c_str());
  // The verdicts as a report of their own (no traffic figures: those are the artifact's), so
  // JUnit, the summary and --format json say what this judging found.
  RunReport report;
  report.scenario = run.scenario;
  report.tag = run.tag;
  report.spec_path = run.spec_path;
  report.environment_path = run.environment_path;
  report.plan_hash = run.plan.plan_hash;
  report.seed = run.plan.seed;
  report.started_at = run.started_at;
  report.ended_at = run.ended_at;
  report.planned_duration = run.plan.total;
  report.actual_duration = run.actual_duration.value_or(run.plan.total);
  report.assertions = judge_assertions(run.plan, *obs);
  report.status = status_of(report.assertions);
  report.exit_code = report.status == RunStatus::kPassed ? 0 : 1;
  report.status_detail = note;
  print_assertions(out, report.assertions);
  const RunStatus status = report.status;
  if (const std::string first = look_first_at(report.assertions); !first.empty())
    std::fprintf(out, "\nlook first at: %s\n", first.c_str());
  std::fprintf(out, "\nresult: %s\n", run_status_name(status));
  finish_run_outputs(report, run.has_artifact ? run.artifact_path : "", outputs,
                     report_to_json(report));
  return status == RunStatus::kPassed ? 0 : 1;
}

const CommandRegistration kJudge({"judge",
                                  "judge a recorded run again from its bundle (no network)", 35,
                                  &judge_command});

}  // namespace
}  // namespace faultline::cli
