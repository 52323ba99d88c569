// ServiceLauncher and the allowlist against real processes (redis-server from Debian) and
// commands that fail in the ways users' commands fail.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "net/allowlist.h"
#include "run/service_launcher.h"
#include "temp_dir.h"

using namespace faultline;
using namespace std::chrono_literals;

namespace {

ServiceSpec redis_spec() {
  ServiceSpec s;
  s.name = "redis";
  s.command = {"redis-server", "--port", "{port}",       "--bind", "127.0.0.1",
               "--save",       "",       "--appendonly", "no"};
  s.protocol = "tcp";
  s.ready_timeout = 10s;
  return s;
}

}  // namespace

TEST_CASE("urls parse and the allowlist admits loopback only by default") {
  UrlParts u;
  REQUIRE(parse_url("http://127.0.0.1:8080/metrics", &u));
  CHECK(u.host == "127.0.0.1");
  CHECK(u.port == 8080);
  CHECK(u.path == "/metrics");
  REQUIRE(parse_url("http://[::1]:9000", &u));
  CHECK(u.host == "::1");
  CHECK(u.port == 9000);
  CHECK_FALSE(parse_url("127.0.0.1:80", &u));
  CHECK_FALSE(parse_url("http://:80", &u));
  CHECK_FALSE(parse_url("http://host:99999", &u));

  const Environment env;  // default allowlist
  CHECK(host_allowed("127.0.0.1", env.allow));
  CHECK(host_allowed("127.3.2.1", env.allow));
  CHECK(host_allowed("::1", env.allow));
  CHECK(host_allowed("LocalHost", env.allow));
  CHECK_FALSE(host_allowed("10.0.0.1", env.allow));
  CHECK_FALSE(host_allowed("128.0.0.1", env.allow));
  CHECK_FALSE(host_allowed("example.com", env.allow));
  CHECK_FALSE(host_allowed("::2", env.allow));
  CHECK(host_allowed("10.1.2.3", {"10.0.0.0/8"}));
  CHECK_FALSE(host_allowed("11.1.2.3", {"10.0.0.0/8"}));
}

TEST_CASE("a URL service outside the allowlist is refused before any traffic") {
  Environment env;
  env.source_path = "envs/test.yaml";
  ServiceSpec api;
  api.name = "api";
  api.url = "http://10.20.30.40:8080";
  env.services.push_back(api);
  const testing::TempDir logs("launcher-allow");
  ServiceLauncher launcher(env, logs.path());
  try {
    launcher.start({});
    FAIL("expected an EnvironmentError");
  } catch (const EnvironmentError& e) {
    CHECK(std::string(e.what()).find("outside the target allowlist") != std::string::npos);
    CHECK(e.code() == ExitCode::kEnvironment);
  }
}

TEST_CASE("started services get free ports, placeholders resolve, and stop_all stops them") {
  Environment env;
  env.source_path = "envs/test.yaml";
  env.services.push_back(redis_spec());
  ServiceSpec second = redis_spec();
  second.name = "replica";
  second.command = {
      "redis-server", "--port", "{port}",      "--bind",       "127.0.0.1",   "--save", "",
      "--appendonly", "no",     "--replicaof", "{redis.host}", "{redis.port}"};
  env.services.push_back(second);
  const testing::TempDir logs("launcher-launch");
  ServiceLauncher launcher(env, logs.path());
  launcher.start({"replica"});  // pulls in redis through the placeholder
  REQUIRE(launcher.services().size() == 2);
  CHECK(launcher.services()[0]->name == "redis");
  const RunningService& redis = launcher.get("redis");
  const RunningService& replica = launcher.get("replica");
  CHECK(redis.port != replica.port);
  CHECK(redis.started_here);
  CHECK(std::filesystem::exists(logs / "redis.log"));
  const pid_t redis_pid = redis.process->pid();
  const pid_t replica_pid = replica.process->pid();
  CHECK(::kill(redis_pid, 0) == 0);
  CHECK(launcher.resolve("x {redis.port} {port}", env.services[1], 7) ==
        "x " + std::to_string(redis.port) + " 7");
  const auto lines = launcher.stop_all();
  CHECK(lines.size() == 2);
  CHECK(lines[0].find("replica") != std::string::npos);  // newest first
  CHECK(::kill(redis_pid, 0) != 0);
  CHECK(::kill(replica_pid, 0) != 0);
}

TEST_CASE("a service that exits at startup is reported with its output") {
  Environment env;
  env.source_path = "envs/test.yaml";
  ServiceSpec bad;
  bad.name = "broken";
  bad.command = {"sh", "-c", "echo 'config file missing: /nope.conf' >&2; exit 3"};
  bad.ready_timeout = 5s;
  env.services.push_back(bad);
  const testing::TempDir logs("launcher-broken");
  ServiceLauncher launcher(env, logs.path());
  try {
    launcher.start({});
    FAIL("expected an EnvironmentError");
  } catch (const EnvironmentError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("'broken' exited during startup (exit code 3)") != std::string::npos);
    CHECK(msg.find("config file missing: /nope.conf") != std::string::npos);
  }
}

TEST_CASE("a service that never gets ready times out with the reason, and is stopped") {
  const testing::TempDir logs("launcher-sleepy");
  Environment env;
  env.source_path = "envs/test.yaml";
  ServiceSpec slow;
  slow.name = "sleepy";
  // The shell writes its PID and becomes `sleep` (exec keeps the PID), so the test knows
  // which process the launcher started.
  const std::string pid_file = logs / "sleepy.pid";
  slow.command = {"sh", "-c", "echo $$ > " + pid_file + " && exec sleep 30"};
  slow.protocol = "tcp";
  slow.ready_timeout = 1s;  // ample for the shell to write its PID on a loaded machine
  env.services.push_back(slow);
  ServiceLauncher launcher(env, logs.path());
  CHECK_THROWS_WITH_AS(launcher.start({}), doctest::Contains("was not ready within 1s"),
                       EnvironmentError);
  CHECK(launcher.services().empty());
  std::ifstream in(pid_file);
  pid_t pid = 0;
  in >> pid;
  REQUIRE(pid > 1);
  // Gone and reaped: a zombie would still answer kill(pid, 0).
  errno = 0;
  CHECK(::kill(pid, 0) == -1);
  CHECK(errno == ESRCH);
}

TEST_CASE("a command that cannot be executed is an environment error") {
  Environment env;
  env.source_path = "envs/test.yaml";
  ServiceSpec missing;
  missing.name = "ghost";
  missing.command = {"/nonexistent/faultline-ghost", "--port", "{port}"};
  env.services.push_back(missing);
  const testing::TempDir logs("launcher-ghost");
  ServiceLauncher launcher(env, logs.path());
  CHECK_THROWS_WITH_AS(launcher.start({}), doctest::Contains("cannot start '/nonexistent"),
                       EnvironmentError);
}
