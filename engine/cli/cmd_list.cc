// faultline list: the scenarios in a directory, with their descriptions (`make chaos` with no
// SCENARIO prints this).
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cxxopts.hpp>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/plan_flags.h"
#include "common/error.h"
#include "common/json_out.h"
#include "spec/loader.h"

namespace faultline::cli {
namespace {

std::string one_line(std::string text) {
  for (auto& c : text)
    if (c == '\n') c = ' ';
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

int list_command(int argc, char** argv) {
  cxxopts::Options opts("faultline list",
                        "List the scenarios in a directory (default specs/) with their "
                        "descriptions.\n");
  opts.custom_help("[DIR]");
  opts.add_options()("format", "text, or json: [{name, path, valid, description}]",
                     cxxopts::value<std::string>()->default_value("text"), "FORMAT")(
      "h,help", "show this help")("dir", "", cxxopts::value<std::string>());
  opts.parse_positional({"dir"});
  auto result = parse_or_usage(opts, argc, argv);
  if (result.count("help")) {
    std::cout << opts.help();
    return 0;
  }
  const std::string dir = result.count("dir") ? result["dir"].as<std::string>() : "specs";
  if (!std::filesystem::is_directory(dir)) throw UsageError("'" + dir + "' is not a directory");
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".yaml" || e.path().extension() == ".yml")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  const std::string format = result["format"].as<std::string>();
  if (format != "text" && format != "json") throw UsageError("--format is text or json");
  const bool json = format == "json";
  if (!json)
    std::printf(
        "scenarios in %s (run one with: faultline run <name>, or make chaos "
        "SCENARIO=<name>):\n\n",
        dir.c_str());
  JsonOut j;
  j.begin_array();
  int invalid = 0;
  for (const auto& f : files) {
    const ScenarioLoad load = load_scenario(f.string());
    const std::string name = f.stem().string();
    const std::string description = load.ok() ? one_line(load.scenario->description) : "";
    if (!load.ok()) ++invalid;
    if (json) {
      j.begin_object();
      j.member("name", name);
      j.member("path", f.string());
      j.member("valid", load.ok());
      j.member("description", description);
      j.end_object();
    } else if (!load.ok()) {
      std::printf("  %-18s (invalid: faultline validate %s)\n", name.c_str(), f.c_str());
    } else {
      std::printf("  %-18s %s\n", name.c_str(), description.c_str());
    }
  }
  j.end_array();
  if (json) std::printf("%s\n", j.text().c_str());
  return invalid ? static_cast<int>(ExitCode::kInvalid) : 0;
}

const CommandRegistration kList({"list", "list the scenarios of a directory", 70, &list_command});

}  // namespace
}  // namespace faultline::cli
