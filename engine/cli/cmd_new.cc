// faultline new NAME: writes a commented scenario to start from, ready to validate and run
// against envs/local.yaml (the demo system), or a copy of an existing one (--from). Refuses
// to overwrite: a scenario someone edited is worth more than a fresh template.
#include <cstdio>
#include <cxxopts.hpp>
#include <filesystem>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "cli/plan_flags.h"
#include "cli/spec_names.h"
#include "common/error.h"
#include "common/file_io.h"

namespace faultline::cli {
namespace {

namespace fs = std::filesystem;

// The schema modeline for a scenario written in `dir`: editors with the YAML language server
// then complete and check it as it is typed.
std::string modeline(const std::string& dir) {
  std::error_code ec;
  const fs::path schema = fs::absolute("schemas/scenario.schema.json", ec);
  fs::path rel = fs::relative(schema, fs::absolute(dir, ec), ec);
  if (ec || rel.empty()) rel = "../schemas/scenario.schema.json";
  return "# yaml-language-server: $schema=" + rel.string() + "\n";
}

// A scenario against the demo system of envs/local.yaml: orders call payment synchronously,
// so a slow payment shows in the orders' tail. Every section says what it is for.
std::string template_text(const std::string& name, const std::string& dir) {
  return modeline(dir) + "#\n# " + name +
         ": describe the incident here: what users saw, which dependency misbehaved, what\n"
         "# you expect to see when it is reproduced. Docs: docs/running.md, "
         "docs/dsl-reference.md.\n"
         "version: 1\n"
         "name: " +
         name +
         "\n"
         "description: >\n"
         "  One payment charge in ten takes 1500 ms longer. Expect the orders' p95 above 800 ms\n"
         "  while the fault is on, and latency back to normal after it is lifted.\n"
         "# The same seed gives the same requests at the same times (faultline plan shows them).\n"
         "seed: 1\n"
         "# The service traffic is sent to, as named in the environment (envs/local.yaml).\n"
         "target: api\n"
         "\n"
         "traffic:\n"
         "  rate: 30/s            # base rate; phases may set their own\n"
         "  arrival: poisson      # or constant\n"
         "  timeout: 5s\n"
         "  routes:\n"
         "    - name: users       # reads: never touch payment\n"
         "      weight: 70\n"
         "      request: GET /users/{user_id}\n"
         "      vars:\n"
         "        user_id: uniform(1, 1000)\n"
         "    - name: orders      # writes: charge payment synchronously\n"
         "      weight: 30\n"
         "      request: POST /orders\n"
         "      headers:\n"
         "        Content-Type: application/json\n"
         "      body:\n"
         "        user_id: \"{user_id}\"\n"
         "        amount: \"{amount}\"\n"
         "        client_order_id: \"" +
         name +
         "-{request_id}\"\n"
         "      vars:\n"
         "        user_id: uniform(1, 1000)\n"
         "        amount: uniform(5, 500)\n"
         "\n"
         "# What goes wrong, by name; phases turn profiles on. Knobs are the demo services' own.\n"
         "fault_profiles:\n"
         "  slow_payment:\n"
         "    description: One charge in ten is 1500 ms slower.\n"
         "    knobs:\n"
         "      payment:\n"
         "        payment_latency_ms_add: 1500\n"
         "        payment_latency_pct: 10\n"
         "\n"
         "# Before, during and after the incident. Faults are undone when their phase ends.\n"
         "phases:\n"
         "  - name: warmup\n"
         "    duration: 15s\n"
         "  - name: trigger\n"
         "    duration: 25s\n"
         "    faults: [slow_payment]\n"
         "  - name: cooldown\n"
         "    duration: 20s\n"
         "\n"
         "observe:\n"
         "  interval: 1s\n"
         "  targets: [api, payment]   # services whose /metrics are scraped\n"
         "\n"
         "# The claim: the run passes only when every assertion holds. A bare latency number is\n"
         "# milliseconds, but write the unit (800ms) to say so.\n"
         "assert:\n"
         "  - \"during(trigger): p95(route=orders) > 800ms\"\n"
         "  - \"during(warmup): p95 < 300ms\"\n"
         "  - \"after(cooldown): p95 back to normal\"\n"
         "\n"
         "tolerance:\n"
         "  relative: 50%\n"
         "  absolute: 0.05\n"
         "  baseline: warmup\n"
         "\n"
         "# Stop early when things go far worse than the incident (faults are undone first).\n"
         "abort_if:\n"
         "  - \"overall: error_rate > 50%\"\n";
}

int new_command(int argc, char** argv) {
  cxxopts::Options opts("faultline new",
                        "Write a new scenario, DIR/NAME.yaml: a commented template against the "
                        "demo system of\nenvs/local.yaml (a slow payment dependency), or a copy "
                        "of an existing scenario with\n--from. Never overwrites a file. Then: "
                        "faultline validate NAME, faultline run NAME.\n");
  opts.custom_help("NAME [--from SCENARIO] [--dir DIR]");
  opts.add_options()("from", "copy this scenario (a path or a name in specs/) instead",
                     cxxopts::value<std::string>(), "SCENARIO")(
      "dir", "where to write it", cxxopts::value<std::string>()->default_value(kSpecsDir), "DIR")(
      "h,help", "show this help")("name", "", cxxopts::value<std::string>());
  opts.parse_positional({"name"});
  auto result = parse_or_usage(opts, argc, argv);
  if (result.count("help")) {
    std::cout << opts.help()
              << "\nExamples:\n  faultline new checkout-slow\n"
                 "  faultline new my-storm --from error-storm\n";
    return 0;
  }
  if (!result.count("name")) throw UsageError("new needs a name: faultline new NAME");
  const std::string name = result["name"].as<std::string>();
  bool name_ok = !name.empty() && name.size() <= 64;
  for (char c : name)
    name_ok = name_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
  if (!name_ok)
    throw UsageError("'" + name +
                     "' is not a scenario name: letters, digits, '-' and '_', up to 64");
  const std::string dir = result["dir"].as<std::string>();
  const std::string path = dir + "/" + name + ".yaml";
  std::error_code ec;
  if (fs::exists(path, ec))
    throw UsageError(path + " already exists; not overwritten (pick another name, or edit it)");

  std::string text;
  if (result.count("from")) {
    const std::string from = resolve_spec_arg(result["from"].as<std::string>());
    const auto source = read_whole_file(from);
    if (!source) throw UsageError("--from " + from + ": cannot read it");
    text = *source;
    // The copy is a scenario of its own: its name is the new one (the first top-level name:).
    const size_t at = text.rfind("\nname:", text.find("\nphases:"));
    if (at != std::string::npos) {
      const size_t end = text.find('\n', at + 1);
      text.replace(at + 1, end - at - 1, "name: " + name);
    } else if (text.rfind("name:", 0) == 0) {
      text.replace(0, text.find('\n'), "name: " + name);
    }
  } else {
    text = template_text(name, dir);
  }
  fs::create_directories(dir, ec);
  if (ec) throw EnvironmentError("cannot create " + dir + ": " + ec.message());
  write_file_atomically(path, text);
  const std::string shown = dir == kSpecsDir ? name : path;
  std::printf("wrote %s\nnext:\n  faultline validate %s\n  faultline plan %s\n  faultline run %s\n",
              path.c_str(), shown.c_str(), shown.c_str(), shown.c_str());
  return 0;
}

const CommandRegistration kNew({"new", "write a new scenario from a template or another one", 5,
                                &new_command});

}  // namespace
}  // namespace faultline::cli
