#include "cli/plan_flags.h"

#include "common/error.h"

namespace faultline::cli {

void add_plan_flags(cxxopts::Options& options) {
  options.add_options("plan")("seed", "seed of the plan (default: the spec's seed)",
                              cxxopts::value<uint64_t>())(
      "qps", "base request rate, e.g. 30 or 30/s; phase rates scale with it",
      cxxopts::value<std::string>())("duration",
                                     "total duration, e.g. 90s; every phase keeps its share",
                                     cxxopts::value<std::string>())(
      "set", "NAME=VALUE for ${NAME} in the spec (wins over the environment); repeatable",
      cxxopts::value<std::vector<std::string>>())(
      "env",
      "environment file to run in; overrides the spec's own environment: (default: the "
      "spec's, else envs/local.yaml)",
      cxxopts::value<std::string>());
}

void read_plan_flags(const cxxopts::ParseResult& r, LoadOptions* load, PlanOverrides* o,
                     std::map<std::string, std::string>* as_text) {
  if (r.count("seed")) {
    o->seed = r["seed"].as<uint64_t>();
    (*as_text)["--seed"] = std::to_string(*o->seed);
  }
  if (r.count("qps")) {
    const std::string text = r["qps"].as<std::string>();
    const auto rate = parse_rate(text);
    if (!rate || *rate <= 0)
      throw UsageError("--qps '" + text + "' is not a rate; write e.g. 30 or 30/s or 1800/m");
    o->qps = *rate;
    (*as_text)["--qps"] = text;
  }
  if (r.count("duration")) {
    const std::string text = r["duration"].as<std::string>();
    const auto d = parse_duration(text);
    if (!d || d->count() <= 0)
      throw UsageError("--duration '" + text + "' is not a duration; write e.g. 90s or 2m");
    o->duration = *d;
    (*as_text)["--duration"] = text;
  }
  for (const auto& [name, value] : set_variables(r)) {
    load->variables[name] = value;
    (*as_text)["--set " + name] = value;
  }
  if (r.count("env")) {
    load->environment_file = r["env"].as<std::string>();
    (*as_text)["--env"] = load->environment_file;
  }
}

std::map<std::string, std::string> set_variables(const cxxopts::ParseResult& result) {
  // The raw arguments: cxxopts would split a vector value at commas (--set HOSTS=a,b).
  std::map<std::string, std::string> out;
  for (const auto& kv : result.arguments()) {
    if (kv.key() != "set") continue;
    const std::string& text = kv.value();
    const size_t eq = text.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("--set " + text + ": expected NAME=VALUE (e.g. --set RATE=80/s)");
    out[text.substr(0, eq)] = text.substr(eq + 1);
  }
  return out;
}

cxxopts::ParseResult parse_or_usage(cxxopts::Options& options, int argc, char** argv) {
  try {
    return options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    throw UsageError(std::string(e.what()) + " (see --help)");
  }
}

}  // namespace faultline::cli
