// Benchmark driver for the spec-to-plan path (bench/spec-to-plan): for each scenario file given,
// times in-process, without process start, load + validate + compile: load_scenario (read,
// ${VAR}s, schema, environment, semantic and DSL checks: what `faultline validate` runs) then
// compile_plan (phases, faults, scrapes, statements, plan hash: the rest of `faultline plan`).
// Each file is timed --repeats times (after one untimed warm-up) with steady_clock; prints one
// line per file:
//   file=<path> best_ms=<min> median_ms=<median> load_ms=<best load> compile_ms=<best compile>
//   routes=<n> plan_hash=<hash>
// Exits 1 when a file does not load (its diagnostics on stderr). Not a test: it prints figures.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "plan/compiler.h"
#include "spec/diagnostic.h"
#include "spec/loader.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options opts("spec_plan_driver",
                        "Time load + validate + compile of scenario files in-process (best of N).");
  opts.add_options()("repeats", "timed repeats per file",
                     cxxopts::value<int>()->default_value("10"))(
      "env", "environment file for every spec (as faultline --env)", cxxopts::value<std::string>())(
      "h,help", "show this help")("specs", "scenario files",
                                  cxxopts::value<std::vector<std::string>>());
  opts.parse_positional({"specs"});
  cxxopts::ParseResult args;
  try {
    args = opts.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    std::cerr << "spec_plan_driver: " << e.what() << " (see --help)\n";
    return 2;
  }
  if (args.count("help") || !args.count("specs")) {
    std::cout << opts.help() << "\n";
    return args.count("help") ? 0 : 2;
  }
  const int repeats = std::max(1, args["repeats"].as<int>());
  faultline::LoadOptions load_options;
  if (args.count("env")) load_options.environment_file = args["env"].as<std::string>();

  for (const auto& file : args["specs"].as<std::vector<std::string>>()) {
    std::vector<double> totals;
    double best_load = 1e300, best_compile = 1e300;
    std::string hash;
    size_t routes = 0;
    for (int i = 0; i <= repeats; ++i) {
      const auto start = Clock::now();
      // Load: read, ${VAR}s, schema, environment, every semantic and DSL check (all of
      // `faultline validate`); then compile (the rest of `faultline plan`).
      const faultline::ScenarioLoad loaded = faultline::load_scenario(file, load_options);
      const auto compile_start = Clock::now();
      if (!loaded.ok()) {
        // The first few: a generated spec that breaks a rule breaks it on every route.
        for (size_t k = 0; k < loaded.diagnostics.size() && k < 10; ++k)
          std::cerr << faultline::format_diagnostic(loaded.diagnostics[k], false) << "\n";
        std::cerr << "spec_plan_driver: " << file << " does not load\n";
        return 1;
      }
      const faultline::Plan plan = faultline::compile_plan(*loaded.scenario, {});
      const double compile_ms = ms_since(compile_start);
      const double total_ms = ms_since(start);
      const double load_ms = total_ms - compile_ms;
      hash = plan.plan_hash;
      routes = plan.routes.size();
      if (i == 0) continue;  // warm-up: page cache, allocator, first-use statics
      totals.push_back(total_ms);
      best_load = std::min(best_load, load_ms);
      best_compile = std::min(best_compile, compile_ms);
    }
    std::sort(totals.begin(), totals.end());
    std::printf(
        "file=%s best_ms=%.3f median_ms=%.3f load_ms=%.3f compile_ms=%.3f routes=%zu "
        "plan_hash=%s\n",
        file.c_str(), totals.front(), totals[totals.size() / 2], best_load, best_compile, routes,
        hash.c_str());
    std::fflush(stdout);
  }
  return 0;
}
