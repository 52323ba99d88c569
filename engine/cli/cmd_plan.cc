// faultline plan: what a run would do, without doing it. Never touches the network.
#include <cctype>
#include <cstdio>
#include <cxxopts.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/plan_flags.h"
#include "cli/spec_names.h"
#include "common/error.h"
#include "dsl/parser.h"
#include "judge/evaluator.h"
#include "plan/compiler.h"
#include "plan/plan_json.h"
#include "spec/diagnostic.h"
#include "spec/loader.h"

namespace faultline::cli {
namespace {

std::string window_text(const Plan& plan, const PlannedStatement& s) {
  const auto resolved = judge::resolve_window(s.parsed->window, plan.phases);
  if (!resolved.window) return resolved.note;
  return format_duration(resolved.window->start) + ".." + format_duration(resolved.window->end);
}

void print_human(const Plan& plan) {
  std::printf("scenario  %s\n", plan.scenario_name.c_str());
  std::string description = plan.description;
  while (!description.empty() && std::isspace(static_cast<unsigned char>(description.back())))
    description.pop_back();
  if (!description.empty()) std::printf("          %s\n", description.c_str());
  std::printf("seed      %llu\n", static_cast<unsigned long long>(plan.seed));
  std::printf("target    %s, %s arrivals, timeout %s, max in flight %d\n", plan.target.c_str(),
              plan.arrival == ArrivalProcess::kPoisson ? "poisson" : "constant",
              format_duration(plan.request_timeout).c_str(), plan.max_in_flight);
  std::printf("total     %s\n\nphases:\n", format_duration(plan.total).c_str());
  double weight_sum = 0;
  for (const auto& r : plan.routes) weight_sum += r.weight;
  for (const auto& p : plan.phases) {
    char rate[64];
    if (p.rate_from == p.rate_to)
      std::snprintf(rate, sizeof rate, "%.4g/s", p.rate_from);
    else
      std::snprintf(rate, sizeof rate, "ramp %.4g/s -> %.4g/s", p.rate_from, p.rate_to);
    std::printf("  %-10s %8s .. %-8s %-22s ~%.0f requests:", p.name.c_str(),
                format_duration(p.start).c_str(), format_duration(p.end).c_str(), rate,
                p.expected_requests());
    for (const auto& r : plan.routes)
      std::printf(" %s ~%.0f", r.name.c_str(), p.expected_requests() * r.weight / weight_sum);
    std::printf("\n");
  }
  std::printf("\nfault timeline:\n");
  if (plan.fault_steps.empty()) std::printf("  (no faults)\n");
  for (const auto& f : plan.fault_steps)
    std::printf("  at %-8s %-8s %-12s %s\n", format_duration(f.at).c_str(), f.kind.c_str(),
                f.target.c_str(),
                f.is_reset() ? "back to baseline" : ("set " + f.state_json).c_str());
  std::printf("\nscrapes: every %s from %zu target(s):",
              format_duration(plan.scrape_interval).c_str(), plan.scrape_targets.size());
  for (const auto& t : plan.scrape_targets) std::printf(" %s%s", t.service.c_str(), t.path.c_str());
  std::printf("\n\nassertions:\n");
  for (const auto& a : plan.assertions)
    std::printf("  [%s] %s\n", window_text(plan, a).c_str(), a.text.c_str());
  for (const auto& a : plan.abort_if)
    std::printf("  abort if [%s] %s\n", window_text(plan, a).c_str(), a.text.c_str());
  std::printf("\nplan hash %s\n", plan.plan_hash.c_str());
}

int plan_command(int argc, char** argv) {
  cxxopts::Options opts("faultline plan",
                        "Compile a scenario into its execution plan and show it: phases with "
                        "rates and expected\nrequests per route, the fault timeline, scrapes, "
                        "assertions with their windows, and\nthe plan hash (same inputs, same "
                        "hash, on every machine). Sends nothing anywhere.\n");
  opts.custom_help("SPEC|NAME [options]   (NAME: specs/NAME.yaml)");
  add_plan_flags(opts);
  opts.add_options()("format", "text or json",
                     cxxopts::value<std::string>()->default_value("text"))(
      "arrivals", "with --format json: include the first N arrivals",
      cxxopts::value<size_t>()->default_value("0"))("h,help", "show this help")(
      "spec", "", cxxopts::value<std::string>());
  opts.parse_positional({"spec"});
  auto result = parse_or_usage(opts, argc, argv);
  if (result.count("help")) {
    std::cout << opts.help()
              << "\nExample:\n  faultline plan specs/latency-tail.yaml --seed 7 "
                 "--format json --arrivals 5\n";
    return 0;
  }
  if (!result.count("spec")) throw UsageError("plan needs a scenario file: faultline plan SPEC");
  const std::string format = result["format"].as<std::string>();
  if (format != "text" && format != "json") throw UsageError("--format is text or json");

  LoadOptions load;
  PlanOverrides overrides;
  std::map<std::string, std::string> as_text;
  read_plan_flags(result, &load, &overrides, &as_text);
  const ScenarioLoad loaded =
      load_scenario(resolve_spec_arg(result["spec"].as<std::string>()), load);
  for (const auto& d : loaded.diagnostics)
    std::fprintf(stderr, "%s\n", format_diagnostic(d, false).c_str());
  if (!loaded.ok()) return static_cast<int>(ExitCode::kInvalid);
  const Plan plan = compile_plan(*loaded.scenario, overrides);
  if (format == "json")
    std::printf("%s\n", plan_to_json(plan, result["arrivals"].as<size_t>(), true).c_str());
  else
    print_human(plan);
  return 0;
}

const CommandRegistration kPlan({"plan", "show the execution plan and its hash (no network)", 20,
                                 &plan_command});

}  // namespace
}  // namespace faultline::cli
