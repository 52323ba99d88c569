// The environment files that run the demo system before and after the incident fixes: every
// service command in envs/local*.yaml must be a valid faultline-demo command line, and the
// "fixed" files must differ from their "before" files exactly by the fixes.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "spec/loader.h"

using faultline::demo::DemoConfig;
using faultline::demo::parse_command_line;
using namespace std::chrono_literals;

namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

// The service's command from the environment file, placeholders filled as faultline would,
// parsed by faultline-demo's own command-line parser (with an empty process environment).
DemoConfig demo_config(const std::string& env_file, const std::string& service) {
  faultline::LoadOptions options;
  options.process_env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  const auto load =
      faultline::load_environment(std::string(FAULTLINE_SOURCE_DIR) + "/" + env_file, options);
  std::string problems;
  for (const auto& d : load.diagnostics) problems += d.message + "\n";
  INFO(env_file << ": " << problems);
  REQUIRE(load.ok());
  const faultline::ServiceSpec* spec = load.environment->find(service);
  REQUIRE(spec != nullptr);
  std::vector<std::string> args = spec->command;
  for (auto& a : args) {
    replace_all(a, "{port}", "0");
    replace_all(a, "{redis.host}", "127.0.0.1");
    replace_all(a, "{redis.port}", "6390");
    replace_all(a, "{payment.url}", "http://127.0.0.1:8081");
  }
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  INFO(env_file << " " << service);
  return parse_command_line(
             static_cast<int>(argv.size()), argv.data(),
             [](std::string_view) -> std::optional<std::string> { return std::nullopt; })
      .config;
}

// Whether every fix is on (and configured as the fixed env files configure it) or every one off.
void check_fixes(const std::string& env_file, bool on) {
  CAPTURE(env_file);
  const DemoConfig api = demo_config(env_file, "api");
  const DemoConfig payment = demo_config(env_file, "payment");
  CHECK(api.idempotency == on);
  CHECK(api.deadline_propagation == on);
  CHECK(api.payment_hedge_after == (on ? 200ms : 0ms));
  CHECK(api.retry_budget == doctest::Approx(on ? 0.2 : 0.0));
  CHECK(api.reconcile_interval == (on ? 500ms : 0ms));
  CHECK(payment.idempotency == on);
  CHECK(payment.deadline_propagation == on);
}

}  // namespace

TEST_CASE("envs: local and local-cascade run the demo with every fix off") {
  check_fixes("envs/local.yaml", false);
  check_fixes("envs/local-cascade.yaml", false);
}

TEST_CASE("envs: local-fixed and local-cascade-fixed switch every fix on, nothing else") {
  check_fixes("envs/local-fixed.yaml", true);
  check_fixes("envs/local-cascade-fixed.yaml", true);
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"envs/local.yaml", "envs/local-fixed.yaml"},
      {"envs/local-cascade.yaml", "envs/local-cascade-fixed.yaml"}};
  for (const auto& pair : pairs) {
    const std::string& before = pair.first;
    const std::string& after = pair.second;
    CAPTURE(after);
    const DemoConfig b = demo_config(before, "api");
    const DemoConfig a = demo_config(after, "api");
    CHECK(a.payment_timeout == b.payment_timeout);
    CHECK(a.db_latency == b.db_latency);
    CHECK(a.threads == b.threads);
    CHECK(a.faults == b.faults);
    // The error-storm fix retries a failed charge once; the cascade keeps its two retries.
    CHECK(a.payment_retries == std::max(1, b.payment_retries));
    CHECK(demo_config(after, "payment").db_latency == demo_config(before, "payment").db_latency);
    CHECK(demo_config(after, "worker").workers == demo_config(before, "worker").workers);
  }
}
