#include "config.h"

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
                           "DEMO_",
                           "APP_ENV",
                           "listening on"})
    CHECK_MESSAGE(cl.help_text.find(flag) != std::string::npos, flag);
}
