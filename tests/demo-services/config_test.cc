#include "core/config.h"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "common/error.h"

using faultline::demo::CommandLine;
using faultline::demo::parse_command_line;
using faultline::demo::Role;
using namespace std::chrono_literals;

namespace {

CommandLine parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), "faultline-demo");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data(),
                            [env](std::string_view name) -> std::optional<std::string> {
                              auto it = env.find(std::string(name));
                              if (it == env.end()) return std::nullopt;
                              return it->second;
                            });
}

}  // namespace

TEST_CASE("config: api flags with durations, sizes and defaults") {
  auto c = parse({"--role",
                  "api",
                  "--redis",
                  "127.0.0.1:6390",
                  "--payment-url",
                  "http://127.0.0.1:9001/",
                  "--payment-timeout",
                  "300ms",
                  "--payment-retries",
                  "2",
                  "--payment-required",
                  "--max-body",
                  "1KiB",
                  "--faults",
                  "--fault-token",
                  "s3cret",
                  "--port",
                  "0",
                  "--threads",
                  "4"})
               .config;
  CHECK(c.role == Role::kApi);
  CHECK(c.redis_host == "127.0.0.1");
  CHECK(c.redis_port == 6390);
  CHECK(c.payment_url == "http://127.0.0.1:9001");
  CHECK(c.payment_timeout == 300ms);
  CHECK(c.payment_retries == 2);
  CHECK(c.payment_required);
  CHECK(c.max_body_bytes == 1024);
  CHECK(c.faults);
  CHECK(c.fault_token == "s3cret");
  CHECK(c.threads == 4);
  CHECK(c.db_latency == 5ms);
  CHECK(c.max_force_timeout == 10s);
  CHECK(c.bind == "127.0.0.1");
  CHECK_FALSE(c.production);
}

TEST_CASE("config: environment fallbacks, flags win, APP_ENV=production") {
  auto c = parse({"--port", "8081"}, {{"DEMO_ROLE", "payment"},
                                      {"DEMO_PORT", "9999"},
                                      {"DEMO_FAULTS", "1"},
                                      {"DEMO_FAULT_TOKEN", "tok"},
                                      {"DEMO_WORKERS", "7"},  // another role's: ignored
                                      {"APP_ENV", "production"}})
               .config;
  CHECK(c.role == Role::kPayment);
  CHECK(c.port == 8081);
  CHECK(c.faults);
  CHECK(c.fault_token == "tok");
  CHECK(c.production);
  CHECK(c.db_latency == 3ms);
}

TEST_CASE("config: the incident fixes are off by default and switched on by flag or DEMO_*") {
  auto off = parse({"--role", "api", "--redis", "h:1", "--payment-url", "http://x:1"}).config;
  CHECK_FALSE(off.idempotency);
  CHECK_FALSE(off.deadline_propagation);
  CHECK(off.payment_hedge_after == 0ms);
  CHECK(off.retry_budget == 0);
  CHECK(off.retry_budget_min_per_second == 1.0);
  CHECK(off.reconcile_interval == 0ms);

  auto on =
      parse({"--role", "api", "--redis", "h:1", "--payment-url", "http://x:1",
             "--payment-hedge-after", "200ms", "--idempotency", "--deadline-propagation",
             "--retry-budget", "10%", "--retry-budget-min", "2/s", "--reconcile-interval", "200ms"})
          .config;
  CHECK(on.idempotency);
  CHECK(on.deadline_propagation);
  CHECK(on.payment_hedge_after == 200ms);
  CHECK(on.retry_budget == doctest::Approx(0.1));
  CHECK(on.retry_budget_min_per_second == 2.0);
  CHECK(on.reconcile_interval == 200ms);

  auto env = parse({"--role", "payment"}, {{"DEMO_IDEMPOTENCY", "1"},
                                           {"DEMO_DEADLINE_PROPAGATION", "true"},
                                           {"DEMO_IDEMPOTENCY_TTL", "30s"},
                                           {"DEMO_RETRY_BUDGET", "10%"},  // api's: ignored
                                           {"DEMO_RECONCILE_INTERVAL", "1s"}})
                 .config;
  CHECK(env.idempotency);
  CHECK(env.deadline_propagation);
  CHECK(env.idempotency_ttl == 30s);
  CHECK(env.retry_budget == 0);
  CHECK(env.reconcile_interval == 0ms);
  CHECK(parse({"--role", "api", "--redis", "h:1", "--payment-url", "http://x:1"},
              {{"DEMO_RECONCILE_INTERVAL", "1s"}})
            .config.reconcile_interval == 1s);
  CHECK(parse({"--role", "payment"}).config.idempotency_ttl == 10min);
  CHECK(parse({"--role", "api", "--redis", "h:1", "--payment-url", "http://x:1", "--retry-budget",
               "0"})
            .config.retry_budget == 0);
}

TEST_CASE("config: worker options") {
  auto c = parse({"--role", "worker", "--redis", "localhost:7000", "--workers", "2",
                  "--max-retries", "0", "--job-time", "1ms", "--worker-id", "w7"})
               .config;
  CHECK(c.workers == 2);
  CHECK(c.max_retries == 0);
  CHECK(c.job_time == 1ms);
  CHECK(c.worker_id == "w7");
}

TEST_CASE("config: usage errors name the flag") {
  auto fails_with = [](std::vector<std::string> args, const std::string& says) {
    CAPTURE(says);
    try {
      parse(std::move(args));
      FAIL("no error");
    } catch (const faultline::UsageError& e) {
      CHECK(std::string(e.what()).find(says) != std::string::npos);
    }
  };
  fails_with({}, "--role is required");
  fails_with({"--role", "db"}, "unknown role 'db'");
  fails_with({"--role", "api", "--payment-url", "http://x:1"}, "--redis HOST:PORT is required");
  fails_with({"--role", "api", "--redis", "h:1"}, "--payment-url is required");
  fails_with({"--role", "api", "--redis", "h", "--payment-url", "http://x:1"}, "HOST:PORT");
  fails_with({"--role", "api", "--redis", "h:1", "--payment-url", "ftp://x"}, "http:// URL");
  fails_with({"--role", "payment", "--port", "70000"}, "--port");
  fails_with({"--role", "payment", "--max-force-timeout", "soon"}, "not a duration");
  fails_with({"--role", "payment", "--max-body", "lots"}, "--max-body");
  fails_with({"--role", "payment", "--workers", "3"}, "--workers does not apply");
  fails_with({"--role", "payment", "stray"}, "unexpected argument 'stray'");
  fails_with({"--role", "payment", "--no-such-flag"}, "no-such-flag");
  const std::vector<std::string> api = {"--role", "api",           "--redis",
                                        "h:1",    "--payment-url", "http://x:1"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = api;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  fails_with(with({"--retry-budget", "0.1"}), "not a percentage");
  fails_with(with({"--retry-budget", "150%"}), "--retry-budget");
  fails_with(with({"--retry-budget-min", "often"}), "--retry-budget-min");
  fails_with(with({"--payment-hedge-after", "soon"}), "not a duration");
  fails_with({"--role", "payment", "--payment-hedge-after", "200ms"},
             "--payment-hedge-after does not apply");
  fails_with({"--role", "worker", "--redis", "h:1", "--idempotency"},
             "--idempotency does not apply");
  fails_with({"--role", "payment", "--idempotency-ttl", "0"}, "--idempotency-ttl");
  fails_with(with({"--reconcile-interval", "5ms"}), "--reconcile-interval");
  fails_with(with({"--reconcile-interval", "often"}), "not a duration");
  fails_with({"--role", "worker", "--redis", "h:1", "--reconcile-interval", "1s"},
             "--reconcile-interval does not apply");
}

TEST_CASE("config: --help explains every flag") {
  auto cl = parse({"--help"});
  CHECK(cl.show_help);
  for (const char* flag : {"--role",
                           "--port",
                           "--bind",
                           "--threads",
                           "--faults",
                           "--fault-token",
                           "--max-force-timeout",
                           "--max-body",
                           "--redis",
                           "--payment-url",
                           "--payment-timeout",
                           "--payment-retries",
                           "--payment-required",
                           "--db-latency",
                           "--workers",
                           "--max-retries",
                           "--job-time",
                           "--worker-id",
                           "--idempotency",
                           "--idempotency-ttl",
                           "--deadline-propagation",
                           "--payment-hedge-after",
                           "--retry-budget",
                           "--retry-budget-min",
                           "--reconcile-interval",
                           "DEMO_",
                           "APP_ENV",
                           "listening on"})
    CHECK_MESSAGE(cl.help_text.find(flag) != std::string::npos, flag);
}
