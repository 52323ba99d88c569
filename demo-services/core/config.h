// The command line of faultline-demo: flags first, then DEMO_* environment variables, then
// defaults. envs/local.yaml and the test cluster are written against these names; keep them.
//
//   faultline-demo --role api|payment|worker [--port N] [--bind 127.0.0.1] [--threads N]
//     [--faults] [--fault-token T] [--max-force-timeout 10s] [--max-body 64KiB]
//     api:     --redis HOST:PORT --payment-url http://127.0.0.1:P [--payment-timeout 2s]
//              [--payment-retries 0] [--payment-required] [--db-latency 5ms]
//              [--payment-hedge-after 0] [--retry-budget 0] [--retry-budget-min 1/s]
//              [--reconcile-interval 0]
//     payment: [--db-latency 3ms] [--idempotency-ttl 10m]
//     api and payment: [--idempotency] [--deadline-propagation]
//     worker:  --redis HOST:PORT [--workers 4] [--max-retries 3] [--job-time 2ms]
//
// Every flag --some-name has the fallback DEMO_SOME_NAME; APP_ENV=production turns on
// production mode (fault endpoints answer 404 even with --faults).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/units.h"
#include "roles/role.h"

namespace faultline::demo {

struct DemoConfig {
  Role role = Role::kApi;
  std::string bind = "127.0.0.1";
  int port = 0;  // 0: a free port, printed on the ready line
  int threads = 16;
  bool faults = false;
  bool access_log = false;  // one log line per request
  std::string fault_token;
  bool production = false;
  Duration max_force_timeout = std::chrono::seconds(10);
  uint64_t max_body_bytes = 64 * 1024;
  Duration check_interval = std::chrono::milliseconds(250);
  // api, worker
  std::string redis_host;
  int redis_port = 0;
  // api
  std::string payment_url;
  Duration payment_timeout = std::chrono::seconds(2);
  int payment_retries = 0;
  Duration payment_backoff{0};
  bool payment_required = false;
  // api, payment (default depends on the role: api 5ms, payment 3ms)
  Duration db_latency = std::chrono::milliseconds(5);
  // The fixes for the seed incidents (docs/fault-contract.md, "Fixes"); all off by default.
  bool idempotency = false;           // api: send Idempotency-Key; payment: honour it
  bool deadline_propagation = false;  // api: send X-Deadline-Ms; payment: abandon work past it
  Duration payment_hedge_after{0};    // api: 0 = no hedging
  double retry_budget = 0;            // api: share of calls retries may add; 0 = no budget
  double retry_budget_min_per_second = 1.0;  // api
  Duration reconcile_interval{0};            // api: re-enqueue paid-but-unqueued orders; 0 = never
  Duration idempotency_ttl = std::chrono::minutes(10);  // payment
  // worker
  int workers = 4;
  int max_retries = 3;
  Duration job_time = std::chrono::milliseconds(2);
  std::string worker_id = "worker";
};

struct CommandLine {
  bool show_help = false;
  std::string help_text;
  DemoConfig config;  // valid unless show_help
};

// Returns the value of an environment variable, or nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Parses flags and environment. Throws UsageError with a message naming the flag (or variable)
// and what it accepts.
CommandLine parse_command_line(int argc, const char* const* argv, const EnvLookup& env);

// The process environment, for parse_command_line.
std::optional<std::string> process_env(std::string_view name);

}  // namespace faultline::demo
