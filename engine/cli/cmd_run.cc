// faultline run: reproduce the incident a scenario describes, and judge it.
#include <charconv>
#include <cstdio>
#include <cxxopts.hpp>
#include <iostream>
#include <optional>
#include <vector>

#include "cli/commands.h"
#include "cli/outputs.h"
#include "cli/plan_flags.h"
#include "cli/push_flags.h"
#include "cli/spec_names.h"
#include "common/error.h"
#include "common/file_io.h"
#include "recorded/shards.h"
#include "run/push.h"
#include "run/runner.h"

namespace faultline::cli {
namespace {

// Pushes the run's artifact. A nightly must not go green without its results reaching the
// Pushgateway, so a failed push turns exit 0 into 3 (environment error); any other exit code
// already says the run did not pass and is kept.
int push_outcome(const RunOutcome& outcome, const PushTarget& target, std::FILE* out) {
  if (outcome.artifact_path.empty()) {
    std::fprintf(stderr, "push: nothing to push (the run wrote no artifact)\n");
    return outcome.exit_code;
  }
  const std::string error = push_artifact(outcome.artifact_path, target);
  if (error.empty()) {
    std::fprintf(out, "pushed: %s\n", target.url.c_str());
    return outcome.exit_code;
  }
  std::fprintf(stderr, "push: %s\n", error.c_str());
  return outcome.exit_code == 0 ? static_cast<int>(ExitCode::kEnvironment) : outcome.exit_code;
}

int run_command(int argc, char** argv) {
  cxxopts::Options opts("faultline run",
                        "Reproduce the incident a scenario describes: start its environment, "
                        "send the planned\ntraffic, flip the faults on schedule (always undone), "
                        "scrape metrics, judge every\nassertion, write "
                        "artifacts/incident-<name>-<UTC>.json and exit 0 only if the\nincident "
                        "reproduced as claimed.\n");
  opts.custom_help("SPEC|NAME [options]   (NAME: specs/NAME.yaml)");
  add_plan_flags(opts);
  opts.add_options()("tag", "label for this run, recorded in the artifact (e.g. before, after)",
                     cxxopts::value<std::string>()->default_value(""))(
      "artifacts", "directory for the artifact and its bundle",
      cxxopts::value<std::string>()->default_value("artifacts"))(
      "lease",
      "fault lease: services revert on their own this long after faultline stops "
      "renewing (renewed every half lease)",
      cxxopts::value<std::string>()->default_value("6s"))(
      "q,quiet", "no progress output (the summary is still printed)")(
      "progress", "progress style: auto, terminal, lines, quiet",
      cxxopts::value<std::string>()->default_value("auto"))(
      "shard",
      "i/N: send only the arrivals with seq % N == i (0 <= i < N <= 1024); shard 0 alone "
      "applies faults, scrapes and runs hooks; no shard judges: faultline merge does",
      cxxopts::value<std::string>()->default_value(""))(
      "threads",
      "N or auto: event loops that send the traffic (overrides traffic.threads); the "
      "arrivals, ids and plan hash are the same with any N",
      cxxopts::value<std::string>()->default_value(""))("h,help", "show this help");
  add_push_flags(opts);
  add_output_flags(opts);
  opts.parse_positional({"spec"});
  opts.add_options()("spec", "", cxxopts::value<std::string>());
  auto result = parse_or_usage(opts, argc, argv);
  if (result.count("help")) {
    std::cout << opts.help()
              << "\nExit codes: 0 reproduced as claimed, 1 an assertion failed or "
                 "was inconclusive (or abort_if fired),\n2 invalid spec or usage, 3 "
                 "environment error (or --push failed after a passing run), 130 interrupted "
                 "(faults undone first).\n"
                 "\nExamples:\n  faultline run latency-tail            # specs/latency-tail.yaml\n"
                 "  faultline run specs/error-storm.yaml --seed 42 --qps 30 --duration 90s\n";
    return 0;
  }
  if (!result.count("spec")) throw UsageError("run needs a scenario file: faultline run SPEC");
  const std::optional<PushTarget> push = read_push_flags(result);
  const OutputFlags outputs = read_output_flags(result);

  RunOptions ro;
  ro.spec_path = resolve_spec_arg(result["spec"].as<std::string>());
  read_plan_flags(result, &ro.load, &ro.overrides, &ro.override_text);
  ro.tag = result["tag"].as<std::string>();
  ro.artifacts_dir = result["artifacts"].as<std::string>();
  const auto lease = parse_duration(result["lease"].as<std::string>());
  if (!lease || *lease < std::chrono::seconds(1))
    throw UsageError("--lease wants a duration of at least 1s, like 6s");
  ro.lease = *lease;
  const std::string progress =
      result.count("quiet") ? "quiet" : result["progress"].as<std::string>();
  if (progress == "auto")
    ro.progress = ProgressMode::kAuto;
  else if (progress == "terminal")
    ro.progress = ProgressMode::kTerminal;
  else if (progress == "lines")
    ro.progress = ProgressMode::kLines;
  else if (progress == "quiet")
    ro.progress = ProgressMode::kQuiet;
  else
    throw UsageError("--progress is one of auto, terminal, lines, quiet");
  if (const std::string shard = result["shard"].as<std::string>(); !shard.empty()) {
    // Recorded beside the plan (artifact overrides, bundle shard.json), never in it.
    const auto parsed = parse_shard(shard);
    if (!parsed) throw UsageError("--shard wants i/N with 0 <= i < N <= 1024, like 0/3");
    ro.shard_index = parsed->index;
    ro.shard_count = parsed->count;
    ro.override_text["shard"] = shard;
  }
  if (const std::string threads = result["threads"].as<std::string>();
      !threads.empty() && threads != "auto") {
    uint32_t n = 0;
    const auto [end, ec] = std::from_chars(threads.data(), threads.data() + threads.size(), n);
    if (ec != std::errc() || end != threads.data() + threads.size() || n < 1 || n > 64)
      throw UsageError("--threads wants auto or a whole number from 1 to 64");
    ro.threads = n;
    ro.override_text["threads"] = threads;
  }
  for (int i = 0; i < argc; ++i) ro.command_line += (i ? " " : "faultline ") + std::string(argv[i]);
  const RunOutcome outcome = run_scenario(ro, human_out(outputs), stderr);
  finish_run_outcome(outcome, outputs);
  return push ? push_outcome(outcome, *push, human_out(outputs)) : outcome.exit_code;
}

const CommandRegistration kRun({"run", "run a scenario: reproduce the incident and judge it", 30,
                                &run_command});

}  // namespace
}  // namespace faultline::cli
