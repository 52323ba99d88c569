#include "cli/push_flags.h"

#include <vector>

#include "common/error.h"
#include "common/units.h"

namespace faultline::cli {

void add_push_flags(cxxopts::Options& opts, const std::string& note) {
  opts.add_options("push")(
      "push",
      "push the results to the Prometheus Pushgateway at URL (http://host:port) as "
      "faultline_* gauges, job faultline, grouped by scenario (docs/running.md, "
      "\"Pushing results\"). A failed push is reported on stderr and turns exit 0 into 3" +
          note,
      cxxopts::value<std::string>(),
      "URL")("push-label",
             "extra grouping label NAME=VALUE for --push, e.g. cell=latency-100ms (repeatable)",
             cxxopts::value<std::vector<std::string>>(), "NAME=VALUE")(
      "push-allow-remote",
      "allow a --push URL that is not loopback (by default only 127.0.0.0/8, ::1, localhost)")(
      "push-timeout", "how long to wait for the Pushgateway's answer",
      cxxopts::value<std::string>()->default_value("10s"), "DURATION");
}

bool push_requested(const cxxopts::ParseResult& result) {
  if (result.count("push")) return true;
  if (result.count("push-label") || result.count("push-allow-remote") ||
      result.count("push-timeout"))
    throw UsageError("--push-label, --push-allow-remote and --push-timeout need --push URL");
  return false;
}

std::optional<PushTarget> read_push_flags(const cxxopts::ParseResult& result) {
  if (!push_requested(result)) return std::nullopt;
  PushTarget target;
  target.url = result["push"].as<std::string>();
  if (result.count("push-label")) {
    for (const auto& kv : result["push-label"].as<std::vector<std::string>>()) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos) throw UsageError("--push-label wants NAME=VALUE, got " + kv);
      target.labels[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  const auto timeout = parse_duration(result["push-timeout"].as<std::string>());
  if (!timeout || *timeout < std::chrono::milliseconds(100))
    throw UsageError("--push-timeout wants a duration of at least 100ms, like 10s");
  target.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout);
  if (auto problem = push_target_problem(target, result.count("push-allow-remote") > 0))
    throw UsageError(*problem);
  return target;
}

}  // namespace faultline::cli
