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
      "env", "environment file for specs that name none (default envs/local.yaml)",
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
  if (r.count("set")) {
    for (const auto& kv : r["set"].as<std::vector<std::string>>()) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        throw UsageError("--set '" + kv + "' must look like NAME=VALUE");
      load->variables[kv.substr(0, eq)] = kv.substr(eq + 1);
      (*as_text)["--set " + kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  if (r.count("env")) {
    load->environment_file = r["env"].as<std::string>();
    (*as_text)["--env"] = load->environment_file;
  }
}

cxxopts::ParseResult parse_or_usage(cxxopts::Options& options, int argc, char** argv) {
  try {
    return options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    throw UsageError(std::string(e.what()) + " (see --help)");
  }
}

}  // namespace faultline::cli
