// faultline replay: send a recorded run's exact schedule again, from its bundle alone.
#include <cstdio>
#include <cxxopts.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/outputs.h"
#include "cli/plan_flags.h"
#include "common/error.h"
#include "recorded/recorded_run.h"
#include "run/runner.h"
#include "spec/diagnostic.h"
#include "spec/loader.h"

namespace faultline::cli {
namespace {

int replay_command(int argc, char** argv) {
  cxxopts::Options opts(
      "faultline replay",
      "Re-send exactly the schedule a run recorded: the same request ids, routes, paths, "
      "bodies,\nheaders and intended times, with the same faults at the same instants. Needs "
      "only the\nartifact and its bundle (the plan is rebuilt from the bundle's plan.json and "
      "its hash\nchecked), not the spec. The new artifact names the source and whether the "
      "schedule sent\nmatched the recorded one (sha256 of the sequence). Assertions are judged as "
      "in a run.\n");
  opts.custom_help("ARTIFACT.json [options]");
  opts.add_options()("against", "environment to replay against (default: the one the run used)",
                     cxxopts::value<std::string>())(
      "tag", "tag of the replay's artifact",
      cxxopts::value<std::string>()->default_value("replay"))(
      "artifacts", "directory for the replay's artifact",
      cxxopts::value<std::string>()->default_value("artifacts"))(
      "lease", "fault lease (see faultline run --help)",
      cxxopts::value<std::string>()->default_value("6s"))("q,quiet", "no progress output")(
      "h,help", "show this help")("artifact", "", cxxopts::value<std::string>());
  add_output_flags(opts);
  opts.parse_positional({"artifact"});
  auto result = parse_or_usage(opts, argc, argv);
  if (result.count("help")) {
    std::cout << opts.help()
              << "\nExit codes as for run; 1 also when the schedule sent did not "
                 "match the recorded one.\n\nExample:\n  faultline replay "
                 "artifacts/incident-latency-tail-20261122T201443Z.json --against "
                 "envs/local-fixed.yaml\n";
    return 0;
  }
  if (!result.count("artifact"))
    throw UsageError("replay needs an artifact: faultline replay A.json");
  const OutputFlags outputs = read_output_flags(result);
  std::FILE* out = human_out(outputs);
  const RecordedRun run = load_recorded_run(result["artifact"].as<std::string>());
  if (!run.has_artifact)
    throw UsageError(run.artifact_path +
                     " is a bundle without its artifact (its run was killed): replay needs the "
                     "artifact, whose schedule checksum the replay is checked against");
  const std::string env_path = result.count("against")        ? result["against"].as<std::string>()
                               : run.environment_path.empty() ? kDefaultEnvironmentFile
                                                              : run.environment_path;
  const EnvironmentLoad env = load_environment(env_path);
  for (const auto& d : env.diagnostics)
    std::fprintf(stderr, "%s\n", format_diagnostic(d, false).c_str());
  if (!env.ok()) return static_cast<int>(ExitCode::kInvalid);

  RunOptions ro;
  ro.tag = result["tag"].as<std::string>();
  ro.artifacts_dir = result["artifacts"].as<std::string>();
  const auto lease = parse_duration(result["lease"].as<std::string>());
  if (!lease || *lease < std::chrono::seconds(1))
    throw UsageError("--lease wants a duration of at least 1s, like 6s");
  ro.lease = *lease;
  if (result.count("quiet")) ro.progress = ProgressMode::kQuiet;
  for (int i = 0; i < argc; ++i) ro.command_line += (i ? " " : "faultline ") + std::string(argv[i]);
  std::fprintf(out, "replaying %s (plan %s, %llu arrivals recorded) against %s\n",
               run.artifact_path.c_str(), run.plan.plan_hash.substr(0, 12).c_str(),
               static_cast<unsigned long long>(run.arrivals), env_path.c_str());
  const RunOutcome outcome =
      execute_plan(run.plan, *env.environment, run.spec_path, ro,
                   {run.artifact_path, run.schedule_sha256, run.arrivals}, out, stderr);
  std::fprintf(out, "schedule: %s (sha256 %s)\n",
               outcome.schedule_matched ? "matched the recording" : "DIFFERS from the recording",
               outcome.schedule_sha256.c_str());
  finish_run_outcome(outcome, outputs);
  if (outcome.exit_code == 0 && !outcome.schedule_matched) return 1;
  return outcome.exit_code;
}

const CommandRegistration kReplay({"replay", "re-send a recorded run's exact schedule", 50,
                                   &replay_command});

}  // namespace
}  // namespace faultline::cli
