// Fuzzes the spec loader end to end from memory: YAML reading (aliases, merge keys, tabs,
// substitution), the schema walk, the builders and the semantic checks, including the DSL
// statements they hand to the DSL checker. Invariants beyond "no crash, no leak": every
// diagnostic has a message and a place in the input, formats without trouble, and a load that
// reports no error yields a scenario and its environment.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "spec/diagnostic.h"
#include "spec/loader.h"

namespace {

constexpr const char* kPath = "specs/fuzz.yaml";

// The one other file the fuzzed spec can reach: a small environment at the default path.
constexpr const char* kEnvironment = R"(services:
  redis: {command: [redis-server, --port, "{port}"], protocol: tcp}
  payment: {command: [demo, --port, "{port}"], faults: true}
  api: {command: [demo, --port, "{port}", --payment-url, "{payment.url}"], faults: true}
)";

faultline::LoadOptions fuzz_options() {
  faultline::LoadOptions o;
  o.read_file = [](const std::string& path, std::string& error) -> std::optional<std::string> {
    if (path == faultline::kDefaultEnvironmentFile) return std::string(kEnvironment);
    error = "not in the fuzz world";
    return std::nullopt;
  };
  o.process_env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SET") return std::string("value");
    return std::nullopt;
  };
  o.variables["RATE"] = "5/s";
  return o;
}

void check(const std::vector<faultline::Diagnostic>& diagnostics) {
  for (const auto& d : diagnostics) {
    if (d.message.empty()) std::abort();
    if (d.severity != "error" && d.severity != "warning") std::abort();
    if (d.loc.file == kPath && d.loc.line <= 0) std::abort();  // places in the input are known
    if (d.loc.line < 0 || d.loc.column < 0 || d.length < 1) std::abort();
    (void)faultline::format_diagnostic(d, true);
  }
  (void)faultline::diagnostics_to_json(diagnostics);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  static const faultline::LoadOptions options = fuzz_options();

  const faultline::ScenarioLoad load = faultline::load_scenario_text(text, kPath, options);
  check(load.diagnostics);
  if (faultline::has_errors(load.diagnostics) == load.ok()) std::abort();
  if (load.ok() && (load.scenario->phases.empty() || load.scenario->traffic.routes.empty())) {
    std::abort();
  }

  const faultline::EnvironmentLoad env = faultline::load_environment_text(text, kPath, options);
  check(env.diagnostics);
  if (faultline::has_errors(env.diagnostics) == env.ok()) std::abort();
  return 0;
}
