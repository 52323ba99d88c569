// A service with instances behind nginx, on real processes: the demo api at instances: 3 with
// balancer: nginx (plus the redis and payment it needs). Requests through the balancer reach
// every instance; killing api#1 through the ProcessDriver leaves the balancer answering; the
// undo starts api#1 again on its port and nginx sends it requests again; an instance that dies
// by itself is reported; stop_all leaves no process behind (checked by process group).
#include <doctest/doctest.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "demo_cluster.h"
#include "faults/process_driver.h"
#include "net/http_call.h"
#include "run/nginx_balancer.h"
#include "run/service_launcher.h"
#include "temp_dir.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Status = ProcessControl::Status;

Environment instanced_environment() {
  Environment env;
  env.name = "instances";
  env.source_path = "envs/instances.yaml";
  ServiceSpec redis;
  redis.name = "redis";
  redis.command = {"redis-server", "--port", "{port}",       "--bind", "127.0.0.1",
                   "--save",       "",       "--appendonly", "no"};
  redis.protocol = "tcp";
  redis.ready_timeout = 10s;
  const std::string demo = testing::demo_binary_path();
  ServiceSpec payment;
  payment.name = "payment";
  payment.command = {demo, "--role", "payment", "--port", "{port}", "--db-latency", "1ms"};
  payment.ready_timeout = 10s;
  ServiceSpec api;
  api.name = "api";
  api.command = {demo,
                 "--role",
                 "api",
                 "--port",
                 "{port}",
                 "--redis",
                 "{redis.host}:{redis.port}",
                 "--payment-url",
                 "{payment.url}",
                 "--db-latency",
                 "1ms"};
  api.ready_timeout = 10s;
  api.instances = 3;
  api.balancer = "nginx";
  env.services = {redis, payment, api};
  return env;
}

FaultStep step(const std::string& target, const std::string& state) {
  FaultStep s;
  s.phase = "fault";
  s.kind = "process";
  s.target = target;
  s.state_json = state;
  return s;
}

int get_status(const std::string& url) {
  HttpRequest req;
  req.url = url;
  req.timeout = 2s;
  return static_cast<int>(http_call(req).status);
}

// Requests to /users/{id} an instance answered so far, from its own /metrics; -1 when it does
// not answer.
double users_requests(const RunningService& instance) {
  HttpRequest req;
  req.url = instance.url + "/metrics";
  req.timeout = 2s;
  const HttpResponse r = http_call(req);
  if (r.status != 200) return -1;
  double sum = 0;
  size_t at = 0;
  while (at < r.body.size()) {
    size_t end = r.body.find('\n', at);
    if (end == std::string::npos) end = r.body.size();
    const std::string line = r.body.substr(at, end - at);
    at = end + 1;
    if (line.rfind("http_requests_total{", 0) != 0 || line.find("/users") == std::string::npos)
      continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

bool group_gone(pid_t pgid) {
  return ::kill(-pgid, 0) == -1 && errno == ESRCH;
}

struct Rig {
  testing::TempDir dir{"instances"};
  Environment env = instanced_environment();
  ServiceLauncher launcher{env, dir.path()};
  std::unique_ptr<ProcessDriver> driver;
  Clock::time_point t0 = Clock::now();
  bool death_reported = false;

  Rig() {
    launcher.start({});
    driver = std::make_unique<ProcessDriver>(launcher);
  }
  ~Rig() {
    driver.reset();
    launcher.stop_all();
  }
  Duration now() const { return std::chrono::duration_cast<Duration>(Clock::now() - t0); }
  bool settle() {
    const auto deadline = Clock::now() + 20s;
    while (Clock::now() < deadline) {
      if (launcher.find_exited()) death_reported = true;
      driver->tick(now());
      if (driver->settled()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
  // Sends `n` requests through the balancer; returns how many answered 200.
  int through_balancer(int n) {
    int ok = 0;
    for (int i = 0; i < n; ++i)
      ok += get_status(launcher.get("api").url + "/users/" + std::to_string(1 + i % 50)) == 200;
    return ok;
  }
};

}  // namespace

TEST_CASE("nginx balances over every instance and skips a killed one until it is started again") {
  if (find_nginx_binary().empty()) {
    FAIL("no nginx binary (scripts/install-deps installs nginx-light)");
    return;
  }
  Rig rig;
  const RunningService& balancer = rig.launcher.get("api");
  CHECK(balancer.balancer);
  REQUIRE(balancer.process);
  const auto members = rig.launcher.members("api");
  REQUIRE(members.size() == 3);
  std::map<int, std::string> ports;
  for (const RunningService* m : members) ports[m->port] = m->name;
  CHECK(ports.size() == 3);
  CHECK(ports.count(balancer.port) == 0);
  CHECK(members[1]->name == "api#1");
  CHECK(members[1]->log_path == rig.dir.path() + "/api.1.log");
  std::string why;
  CHECK(rig.launcher.instances("api", &why) == std::vector<std::string>{"api#0", "api#1", "api#2"});
  CHECK(rig.launcher.instances("api#3", &why).empty());
  CHECK(why.find("there is no api#3") != std::string::npos);

  // Round robin: 30 requests through the balancer reach each of the three instances.
  CHECK(rig.through_balancer(30) == 30);
  for (const RunningService* m : members) {
    INFO(m->name);
    CHECK(users_requests(*m) >= 5);
  }

  const pid_t killed_pid = members[1]->process->pid();
  const int killed_port = members[1]->port;
  rig.driver->apply(step("api#1", R"({"action":"kill"})"), rig.now());
  REQUIRE(rig.settle());
  CHECK(rig.launcher.instance_status("api#1") == Status::kDown);
  CHECK(rig.launcher.instance_status("api#0") == Status::kRunning);
  CHECK(rig.launcher.instance_status("api#2") == Status::kRunning);
  CHECK(users_requests(*members[1]) == -1);
  // nginx skips the dead instance: every request still answers.
  CHECK(rig.through_balancer(30) == 30);
  CHECK_FALSE(rig.launcher.find_exited());

  rig.driver->apply(step("api#1", "{}"), rig.now());
  REQUIRE(rig.settle());
  CHECK_FALSE(rig.death_reported);
  CHECK(rig.launcher.instance_status("api#1") == Status::kRunning);
  CHECK(members[1]->port == killed_port);
  CHECK(members[1]->process->pid() != killed_pid);
  // Started again with fresh counters; nginx tries it again after fail_timeout (1 s).
  const auto deadline = Clock::now() + 10s;
  double again = 0;
  while (Clock::now() < deadline && (again = users_requests(*members[1])) <= 0) {
    CHECK(rig.through_balancer(6) == 6);
  }
  CHECK(again > 0);
  std::ifstream access(rig.dir.path() + "/api.nginx/access.log");
  std::string first;
  CHECK(std::getline(access, first));
  CHECK(first.find("upstream=127.0.0.1:") != std::string::npos);

  // An instance that dies by itself is an unexpected death, named by instance.
  ::kill(-members[2]->process->pid(), SIGKILL);
  std::optional<std::string> gone;
  const auto until = Clock::now() + 5s;
  while (!(gone = rig.launcher.find_exited()) && Clock::now() < until)
    std::this_thread::sleep_for(10ms);
  REQUIRE(gone);
  CHECK(gone->find("service 'api#2'") != std::string::npos);

  std::vector<pid_t> groups;
  for (const auto& s : rig.launcher.services())
    if (s->process) groups.push_back(s->process->pid());
  CHECK(groups.size() == 6);  // redis, payment, 3 instances, nginx
  rig.driver->undo_all(rig.now(), "end", 10s);
  rig.driver.reset();
  const auto lines = rig.launcher.stop_all();
  CHECK(lines.size() == 6);
  for (pid_t pgid : groups) {
    INFO("process group " << pgid);
    CHECK(group_gone(pgid));
  }
}

TEST_CASE("the generated nginx config lists every instance and keeps its files in its dir") {
  NginxBalancerConfig c;
  c.service = "api";
  c.dir = "/srv/bundle/logs/api.nginx";  // only text: nothing is written
  c.listen_port = 4000;
  c.instance_ports = {4001, 4002};
  const std::string text = nginx_config_text(c);
  CHECK(text.find("listen 127.0.0.1:4000;") != std::string::npos);
  CHECK(text.find("server 127.0.0.1:4001 ") != std::string::npos);
  CHECK(text.find("server 127.0.0.1:4002 ") != std::string::npos);
  CHECK(text.find("proxy_next_upstream error timeout;") != std::string::npos);
  CHECK(text.find("daemon off;") != std::string::npos);
  // Every path nginx writes is inside the bundle's directory.
  for (const char* directive :
       {"pid ", "error_log ", "access_log ", "client_body_temp_path ", "proxy_temp_path "}) {
    size_t at = text.find(directive);
    while (at != std::string::npos && text[at - 1] != ' ' && text[at - 1] != '\n')
      at = text.find(directive, at + 1);
    REQUIRE_MESSAGE(at != std::string::npos, directive);
    CHECK(text.compare(at + std::strlen(directive), c.dir.size(), c.dir) == 0);
  }
}

}  // namespace faultline
