// faultline validate SPEC... : checks scenario (and environment) files without running
// anything and without any network access. Prints "<file>: OK" per valid file, or every
// diagnostic (text, or a JSON array for tools). Exit 0 when all are valid, 2 otherwise.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "cli/commands.h"
#include "cli/plan_flags.h"
#include "cli/spec_names.h"
#include "common/error.h"
#include "spec/loader.h"

namespace faultline::cli {

namespace {

std::string plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

int run_validate(int argc, char** argv) {
  cxxopts::Options options(
      "faultline validate",
      "Check scenario files (and environment files) against the schema and the semantic rules:\n"
      "names, durations, rates, templates, capacity, assertions. Nothing is started or sent.\n"
      "Exit 0 when every file is valid, 2 otherwise.");
  options.positional_help("SPEC|NAME...  (NAME: specs/NAME.yaml)").show_positional_help();
  options.add_options()("format",
                        "output: text (for people) or json (an array of {file,line,column,severity,"
                        "path,message,hint})",
                        cxxopts::value<std::string>()->default_value("text"), "FORMAT")(
      "set", "value of ${NAME} in the specs (repeatable); wins over the process environment",
      cxxopts::value<std::vector<std::string>>(),
      "NAME=VALUE")("env",
                    "environment file to check the specs against; overrides their own "
                    "environment: (default: each spec's, else envs/local.yaml)",
                    cxxopts::value<std::string>(), "FILE")(
      "color", "color the text output: auto, always or never",
      cxxopts::value<std::string>()->default_value("auto"), "WHEN")("h,help", "show this help")(
      "specs", "scenario files", cxxopts::value<std::vector<std::string>>());
  options.parse_positional({"specs"});
  cxxopts::ParseResult result;
  try {
    result = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    throw UsageError(std::string(e.what()) + " (see faultline validate --help)");
  }
  if (result.count("help")) {
    std::printf("%s\n", options.help().c_str());
    return 0;
  }
  if (!result.count("specs")) {
    throw UsageError("no spec files given; usage: faultline validate SPEC... (e.g. specs/*.yaml)");
  }
  const std::string format = result["format"].as<std::string>();
  if (format != "text" && format != "json") {
    throw UsageError("--format " + format + ": expected text or json");
  }
  const std::string color_opt = result["color"].as<std::string>();
  if (color_opt != "auto" && color_opt != "always" && color_opt != "never") {
    throw UsageError("--color " + color_opt + ": expected auto, always or never");
  }
  const bool color = color_opt == "always" ||
                     (color_opt == "auto" && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR"));

  LoadOptions load_options;
  load_options.variables = set_variables(result);
  if (result.count("env")) load_options.environment_file = result["env"].as<std::string>();

  // Raw file positional values (not split at commas).
  std::vector<std::string> files;
  for (const auto& kv : result.arguments()) {
    if (kv.key() == "specs") files.push_back(resolve_spec_arg(kv.value()));
  }

  bool all_valid = true;
  std::vector<Diagnostic> all;
  for (const auto& file : files) {
    std::vector<Diagnostic> diagnostics;
    bool valid = false;
    if (looks_like_environment_file(file, load_options)) {
      EnvironmentLoad load = load_environment(file, load_options);
      valid = load.ok();
      diagnostics = std::move(load.diagnostics);
    } else {
      ScenarioLoad load = load_scenario(file, load_options);
      valid = load.ok();
      diagnostics = std::move(load.diagnostics);
    }
    all_valid = all_valid && valid;
    if (format == "json") {
      all.insert(all.end(), diagnostics.begin(), diagnostics.end());
      continue;
    }
    for (const auto& d : diagnostics) std::printf("%s\n", format_diagnostic(d, color).c_str());
    const size_t warnings = count_severity(diagnostics, "warning");
    const size_t notes = count_severity(diagnostics, "note");
    if (valid) {
      std::string counts;
      if (warnings) counts = plural(warnings, "warning");
      if (notes) counts += (counts.empty() ? "" : ", ") + plural(notes, "note");
      std::printf("%s: OK%s\n", file.c_str(), counts.empty() ? "" : (" (" + counts + ")").c_str());
    } else {
      std::printf("%s: invalid (%s)\n", file.c_str(),
                  plural(count_severity(diagnostics, "error"), "error").c_str());
    }
  }
  if (format == "json") std::printf("%s\n", diagnostics_to_json(all).c_str());
  return all_valid ? 0 : static_cast<int>(ExitCode::kInvalid);
}

const CommandRegistration reg({"validate", "check scenario files (schema, names, assertions)", 10,
                               &run_validate});

}  // namespace

}  // namespace faultline::cli
