// Helpers of the spec tests: loading from an in-memory file system with an injected process
// environment, and finding diagnostics by place and text.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "spec/diagnostic.h"
#include "spec/loader.h"

namespace faultline::testing {

// Files by path, served instead of the disk; variables instead of the process environment.
struct MemoryWorld {
  std::map<std::string, std::string> files;
  std::map<std::string, std::string> env;

  LoadOptions options() const {
    LoadOptions o;
    o.read_file = [this](const std::string& path,
                         std::string& error) -> std::optional<std::string> {
      const auto it = files.find(path);
      if (it == files.end()) {
        error = "No such file or directory";
        return std::nullopt;
      }
      return it->second;
    };
    o.process_env = [this](const std::string& name) -> std::optional<std::string> {
      const auto it = env.find(name);
      return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    return o;
  }
};

// A minimal environment with an http target `api` (faults on), `payment` (faults on) and a
// tcp `redis`, at envs/local.yaml.
inline const char* kTestEnvironment = R"(services:
  redis:
    command: [redis-server, --port, "{port}"]
    protocol: tcp
  payment:
    command: [demo, --role, payment, --port, "{port}"]
    faults: true
  api:
    command: [demo, --role, api, --port, "{port}", --payment-url, "{payment.url}"]
    faults: true
)";

// A valid scenario for `api`, to be varied by tests.
inline const char* kMinimalScenario = R"(name: minimal
target: api
traffic:
  rate: 10/s
  routes:
    - name: users
      request: GET /users/{id}
      vars:
        id: uniform(1, 100)
phases:
  - name: warmup
    duration: 5s
  - name: trigger
    duration: 5s
assert:
  - "during(trigger): p95 < 1s"
)";

inline MemoryWorld world_with(const std::string& path, const std::string& text) {
  MemoryWorld w;
  w.files["envs/local.yaml"] = kTestEnvironment;
  w.files[path] = text;
  return w;
}

inline ScenarioLoad load_text(const MemoryWorld& w, const std::string& path) {
  return load_scenario(path, w.options());
}

// "line:col: path: message" of every diagnostic, for readable failure output.
inline std::string summary(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) out += format_diagnostic(d, false) + "\n";
  return out;
}

// The first error whose message contains `text`, or nullptr.
inline const Diagnostic* find_error(const std::vector<Diagnostic>& ds, const std::string& text) {
  for (const auto& d : ds) {
    if (d.is_error() && d.message.find(text) != std::string::npos) return &d;
  }
  return nullptr;
}

inline const Diagnostic* find_any(const std::vector<Diagnostic>& ds, const std::string& text) {
  for (const auto& d : ds) {
    if (d.message.find(text) != std::string::npos) return &d;
  }
  return nullptr;
}

}  // namespace faultline::testing
