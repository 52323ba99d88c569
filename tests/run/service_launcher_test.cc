// ServiceLauncher's placeholder filling (no processes): it fills exactly the placeholders the
// loader checks (spec/service_placeholders.h) and leaves every other brace as written.
#include <doctest/doctest.h>

#include <filesystem>

#include "common/error.h"
#include "run/service_launcher.h"
#include "temp_dir.h"

namespace faultline {
namespace {

Environment env_with(std::vector<std::string> command) {
  Environment env;
  env.name = "t";
  ServiceSpec api;
  api.name = "api";
  api.command = std::move(command);
  env.services.push_back(api);
  return env;
}

TEST_CASE("braces that are not placeholders stay as written in a service command") {
  const Environment env = env_with({"awk", "{print $1}"});
  ServiceLauncher launcher(env, "/nonexistent");
  const ServiceSpec& api = env.services[0];
  CHECK(launcher.resolve("{print $1}", api, 4000) == "{print $1}");
  CHECK(launcher.resolve(R"(d={"a": 1})", api, 4000) == R"(d={"a": 1})");
  CHECK(launcher.resolve("--port={port} {x y}", api, 4000) == "--port=4000 {x y}");
  CHECK(launcher.resolve("{host}:{port}", api, 4123) == "127.0.0.1:4123");
}

TEST_CASE("{data_dir} is a directory of the service's own, created, beside the logs") {
  const Environment env = env_with({"redis-server", "--dir", "{data_dir}"});
  const testing::TempDir tmp("launcher-data-dir");
  std::filesystem::create_directories(tmp.path() + "/logs");
  ServiceLauncher launcher(env, tmp.path() + "/logs");
  const std::string dir =
      launcher.resolve("--dir={data_dir}", env.services[0], 1, tmp.path() + "/logs/../data/api");
  const std::string expected = std::filesystem::weakly_canonical(tmp.path() + "/data/api").string();
  CHECK(dir == "--dir=" + expected);
  CHECK(std::filesystem::is_directory(expected));
  // Without a data dir (e.g. `faultline plan` showing a command) it is not a placeholder here.
  CHECK_THROWS_AS(launcher.resolve("{data_dir}", env.services[0], 1), EnvironmentError);
}

TEST_CASE("a placeholder of a service not started yet is an error naming both") {
  const Environment env = env_with({"x"});
  ServiceLauncher launcher(env, "/nonexistent");
  CHECK_THROWS_WITH_AS(launcher.resolve("{redis.url}", env.services[0], 1),
                       doctest::Contains("refers to {redis.url} but 'redis' is not started"),
                       EnvironmentError);
}

TEST_CASE("dependencies come from placeholders only, not from other braces") {
  Environment env = env_with({"app", "--redis", "{redis.host}:{redis.port}", "{print $1}"});
  ServiceSpec redis;
  redis.name = "redis";
  env.services.push_back(redis);
  ServiceSpec print;
  print.name = "print";
  env.services.push_back(print);
  CHECK(service_dependencies(env.services[0], env) == std::set<std::string>{"redis"});
}

}  // namespace
}  // namespace faultline
