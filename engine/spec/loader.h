// Loading scenario and environment files: the entry point of the spec stage. One call reads a
// scenario (following `extends`), substitutes ${VAR}s, checks it against the JSON Schema,
// loads its environment file, runs the semantic checks (names, capacity, DSL statements) and
// builds the typed model. Every problem found becomes a Diagnostic; loading never stops at the
// first one. Nothing here touches the network.
//
//   faultline::LoadOptions opts;
//   opts.variables["RATE"] = "80/s";                       // --set RATE=80/s
//   faultline::ScenarioLoad load = faultline::load_scenario("specs/latency-tail.yaml", opts);
//   for (const auto& d : load.diagnostics) puts(faultline::format_diagnostic(d, false).c_str());
//   if (!load.ok()) return 2;
//   use(*load.scenario, *load.environment);
//
// Paths: `extends` and `environment` are relative to the file that names them. The
// environment is LoadOptions::environment_file (--env) when set, else the spec's own, else
// envs/local.yaml relative to the current directory. Scenario::environment holds the
// resolved path.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "spec/diagnostic.h"
#include "spec/environment.h"
#include "spec/scenario.h"
#include "spec/variable_substitution.h"

namespace faultline {

// Reads a whole file. Returns nullopt and sets `error` (e.g. "No such file or directory") when
// it cannot.
using FileReader =
    std::function<std::optional<std::string>(const std::string& path, std::string& error)>;

inline constexpr const char* kDefaultEnvironmentFile = "envs/local.yaml";

struct LoadOptions {
  // --set NAME=VALUE: values of ${NAME}; they win over the process environment.
  std::map<std::string, std::string> variables;
  // --env FILE: the environment to use, whatever the spec names (so one scenario can run
  // before and after a fix). Empty: the spec's `environment:`, else kDefaultEnvironmentFile.
  std::string environment_file;
  // The process environment; default (empty function): getenv. Tests inject their own.
  VariableLookup process_env;
  // File access; default (empty function): the filesystem. Tests and fuzzers inject their own.
  FileReader read_file;
};

struct ScenarioLoad {
  std::optional<Scenario> scenario;        // set only when there is no error
  std::optional<Environment> environment;  // set only when there is no error
  std::vector<Diagnostic> diagnostics;     // errors and warnings, scenario file first, in order

  bool ok() const { return scenario.has_value() && environment.has_value(); }
};

struct EnvironmentLoad {
  std::optional<Environment> environment;  // set only when there is no error
  std::vector<Diagnostic> diagnostics;

  bool ok() const { return environment.has_value(); }
};

ScenarioLoad load_scenario(const std::string& path, const LoadOptions& options = {});
// The same from memory: `text` is the contents of a file at `virtual_path` (relative paths in it
// resolve against that path, through options.read_file).
ScenarioLoad load_scenario_text(const std::string& text, const std::string& virtual_path,
                                const LoadOptions& options = {});

EnvironmentLoad load_environment(const std::string& path, const LoadOptions& options = {});
EnvironmentLoad load_environment_text(const std::string& text, const std::string& virtual_path,
                                      const LoadOptions& options = {});

// Whether the file at `path` is an environment (a top-level `services:` and no `phases:`)
// rather than a scenario, so `faultline validate` can check both kinds of file. False when it
// cannot be read (loading it as a scenario then says why).
bool looks_like_environment_file(const std::string& path, const LoadOptions& options = {});

}  // namespace faultline
