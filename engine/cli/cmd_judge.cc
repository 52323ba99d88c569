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
#include "net/allowlist.h"
#include "recorded/recorded_run.h"
#include "report/report_json.h"
#include "report/summary.h"
#include "run/prometheus_pull.h"
#include "run/recording.h"

namespace faultline::cli {
namespace {

// The server side of `run` from Prometheus, as the run would have read it with
// `observe: {source: prometheus}`: every tick it reached, by the clock it recorded.
void read_server_side_from_prometheus(const RecordedRun& run, const std::string& url,
                                      const std::string& match, RunObservations& obs,
                                      std::FILE* out) {
  if (const auto problem = loopback_url_problem(url))
    throw UsageError("--prometheus " + url + ": " + *problem);
  if (run.plan_zero_unix_ms == 0)
    throw UsageError(run.artifact_path +
                     " does not say when its plan time 0 was (no artifact, or one written by an "
                     "older faultline), so its ticks cannot be matched with Prometheus' clock");
  ObserveSource source;
  source.source = "prometheus";
  source.url = url;
  source.match = match;
  source.wait = Duration{0};  // the run is over: whatever Prometheus holds is all there is
  const PrometheusPull pull(source, run.plan_zero_unix_ms);
  std::vector<std::string> services;
  for (const auto& t : run.plan.scrape_targets) services.push_back(t.service);
  const std::vector<Duration> ticks = scrape_ticks(run.plan);
  const Duration reached = run.actual_duration.value_or(run.plan.total);
  const auto gave_up = pull.read_run(
      run.plan, services, ticks, reached,
      [&](const std::string& job, size_t i, std::optional<std::string> body, std::string error) {
        obs.scrape_done(job, i, ticks, std::move(body), std::move(error));
      });
  std::fprintf(out, "server metrics from Prometheus at %s (%s)\n", url.c_str(), match.c_str());
  for (const auto& why : gave_up) std::fprintf(out, "note: %s\n", why.c_str());
}

int judge_command(int argc, char** argv) {
  cxxopts::Options opts("faultline judge",
                        "Judge the assertions of a recorded run again, from its artifact's "
                        "bundle (raw samples and\nscrapes): no services, no network. A run cut "
                        "short (aborted, interrupted, killed) is\njudged on what it recorded, "
                        "with a note; give the bundle directory of a run killed before\nit "
                        "wrote its artifact. Exit 0 when every assertion passes, 1 otherwise, 2 "
                        "when the\nartifact or its bundle is missing or damaged.\n\nWith "
                        "--prometheus the server side is read again from a Prometheus server "
                        "that scraped\nthe services during the run (by the run's clock), "
                        "instead of from the bundle: a check that\nPrometheus and faultline's "
                        "own scrapes agree, or a judgement for a run that did not scrape.\n");
  opts.custom_help("ARTIFACT.json | BUNDLE_DIR | SCENARIO [--tag T]");
  opts.add_options()("tag", "with a scenario name: the newest run with this tag",
                     cxxopts::value<std::string>()->default_value(""))(
      "artifacts", "where to look for runs by scenario name",
      cxxopts::value<std::string>()->default_value("artifacts"))(
      "prometheus",
      "read server metrics from this Prometheus (URL, loopback) instead of the bundle",
      cxxopts::value<std::string>())(
      "match",
      "with --prometheus: label matchers selecting a service's series; {service} is its name",
      cxxopts::value<std::string>()->default_value("job=\"{service}\""))(
      "h,help", "show this help")("what", "", cxxopts::value<std::string>());
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
  const bool from_prometheus = result.count("prometheus") > 0;
  const auto obs = recorded_observations(run, &note, !from_prometheus);
  std::fprintf(out, "judging %s (plan %s) from %s\n", run.scenario.c_str(),
               run.plan.plan_hash.substr(0, 12).c_str(), run.bundle_dir.c_str());
  if (from_prometheus)
    read_server_side_from_prometheus(run, result["prometheus"].as<std::string>(),
                                     result["match"].as<std::string>(), *obs, out);
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
