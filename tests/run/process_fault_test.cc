// Process faults on real processes: a ServiceLauncher runs a tiny HTTP server
// (process_fault_helper http), a ProcessDriver kills, pauses and restarts it through the
// launcher, and the test checks what a client sees on the service's port. Also: a faultline
// killed with SIGKILL while its service is paused leaves no process of it behind.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <sstream>
#include <thread>

#include "faults/process_driver.h"
#include "net/http_call.h"
#include "run/service_launcher.h"
#include "temp_dir.h"

#ifndef PROCESS_FAULT_HELPER
#error "PROCESS_FAULT_HELPER must name the process_fault_helper binary"
#endif

namespace faultline {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Status = ProcessControl::Status;
const std::string kHelper = PROCESS_FAULT_HELPER;

ServiceSpec http_service(const std::string& name) {
  ServiceSpec s;
  s.name = name;
  s.command = {kHelper, "http", "{port}"};
  s.ready_path = "/";
  s.ready_timeout = 10s;
  return s;
}

FaultStep step(const std::string& target, const std::string& state) {
  FaultStep s;
  s.phase = "fault";
  s.kind = "process";
  s.target = target;
  s.state_json = state;
  return s;
}

bool answers(const RunningService& s) {
  HttpRequest req;
  req.url = s.url + "/";
  req.timeout = 500ms;
  return http_call(req).status == 200;
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// A launcher with the given services started, a driver over it, and a plan clock.
struct Rig {
  testing::TempDir dir;
  Environment env;
  std::unique_ptr<ServiceLauncher> launcher;
  std::unique_ptr<ProcessDriver> driver;
  Clock::time_point t0 = Clock::now();
  bool death_reported = false;

  explicit Rig(const std::string& name, std::vector<std::string> services = {"api"})
      : dir("process-fault-" + name) {
    env.name = "t";
    for (const auto& s : services) env.services.push_back(http_service(s));
    launcher = std::make_unique<ServiceLauncher>(env, dir.path());
    launcher->start({});
    driver = std::make_unique<ProcessDriver>(*launcher);
  }
  ~Rig() {
    driver.reset();  // waits for actions under way before the launcher goes
    launcher->stop_all();
  }
  Duration now() const { return std::chrono::duration_cast<Duration>(Clock::now() - t0); }
  // Ticks like the session does until the driver settles, noting any death the launcher
  // reports meanwhile (the session would end the run on it).
  bool settle() {
    const auto deadline = Clock::now() + 20s;
    while (Clock::now() < deadline) {
      if (launcher->find_exited()) death_reported = true;
      driver->tick(now());
      if (driver->settled()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
  const RunningService& api() { return launcher->get("api"); }
};

TEST_CASE("a killed service starts again on the same port after restart_after, not as a death") {
  Rig rig("kill-restart");
  const pid_t first_pid = rig.api().process->pid();
  const int port = rig.api().port;
  REQUIRE(answers(rig.api()));
  rig.driver->apply(step("api", R"({"action":"kill","restart_after_us":300000,"restarts":1})"),
                    rig.now());
  REQUIRE(rig.settle());
  CHECK_FALSE(rig.death_reported);
  CHECK(rig.api().port == port);
  CHECK(rig.api().process->pid() != first_pid);
  CHECK(answers(rig.api()));
  const auto ev = rig.driver->events();
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].action == "kill");
  CHECK(ev[0].ok);
  CHECK(ev[1].action == "start");
  CHECK(ev[1].ok);
  CHECK(ev[1].at - ev[0].at >= 300ms);
  CHECK(ev[1].ready_after > 0us);
  MESSAGE("restarted instance ready after " << format_duration(ev[1].ready_after));
  // The restart was spawned for a background action whose thread has ended since: the
  // service must outlive that thread (PR_SET_PDEATHSIG follows the forking thread).
  std::this_thread::sleep_for(300ms);
  CHECK_FALSE(rig.launcher->find_exited());
  CHECK(answers(rig.api()));
  CHECK(rig.driver->undo_all(rig.now(), "end", 10s));
}

TEST_CASE("a paused service does not answer and answers again once the pause is lifted") {
  Rig rig("pause");
  rig.driver->apply(step("api", R"({"action":"pause"})"), rig.now());
  REQUIRE(rig.settle());
  CHECK(rig.launcher->instance_status("api#0") == Status::kPaused);
  CHECK_FALSE(answers(rig.api()));
  CHECK_FALSE(rig.launcher->find_exited());
  rig.driver->apply(step("api", "{}"), rig.now());
  REQUIRE(rig.settle());
  CHECK(rig.launcher->instance_status("api#0") == Status::kRunning);
  CHECK(answers(rig.api()));
  CHECK_FALSE(rig.death_reported);
}

TEST_CASE("undo_all starts a killed service again and continues a paused one") {
  Rig rig("undo", {"api", "web"});
  rig.driver->apply(step("api", R"({"action":"terminate","grace_us":1000000})"), rig.now());
  rig.driver->apply(step("web#0", R"({"action":"pause"})"), rig.now());
  REQUIRE(rig.settle());
  CHECK_FALSE(answers(rig.api()));
  CHECK_FALSE(answers(rig.launcher->get("web")));
  CHECK(rig.launcher->instance_status("api#0") == Status::kDown);
  CHECK(rig.driver->undo_all(rig.now(), "end", 15s));
  CHECK(answers(rig.api()));
  CHECK(answers(rig.launcher->get("web")));
  CHECK(rig.driver->state().not_undone.empty());
  CHECK_FALSE(rig.death_reported);
}

TEST_CASE("a service that dies by itself is still reported, also after a restart") {
  Rig rig("unexpected");
  rig.driver->apply(step("api", R"({"action":"restart","grace_us":1000000})"), rig.now());
  REQUIRE(rig.settle());
  CHECK_FALSE(rig.death_reported);
  CHECK(answers(rig.api()));
  ::kill(-rig.api().process->pid(), SIGKILL);  // not through the driver
  std::optional<std::string> gone;
  CHECK(eventually([&] { return (gone = rig.launcher->find_exited()).has_value(); }, 5s));
  CHECK(gone.value_or("").find("service 'api'") != std::string::npos);
}

TEST_CASE("stop_all stops a paused service without waiting out the grace, and a down one") {
  Rig rig("stop-all", {"api", "web"});
  rig.driver->apply(step("api", R"({"action":"pause"})"), rig.now());
  rig.driver->apply(step("web", R"({"action":"kill"})"), rig.now());
  REQUIRE(rig.settle());
  const pid_t api = rig.api().process->pid();
  const pid_t web = rig.launcher->get("web").process->pid();
  const auto t0 = Clock::now();
  const auto lines = rig.launcher->stop_all();
  const auto took = Clock::now() - t0;
  CHECK(lines.size() == 2);
  // stop() continues the paused group, which then acts on SIGTERM: well under the 3 s grace.
  CHECK(took < 2s);
  CHECK((::kill(-api, 0) == -1 && errno == ESRCH));
  CHECK((::kill(-web, 0) == -1 && errno == ESRCH));
  rig.driver->undo_all(rig.now(), "end", 100ms);  // nothing left to act on; must not hang
}

TEST_CASE("faultline killed with SIGKILL while its service is paused leaves no process behind") {
  const testing::TempDir dir("process-fault-owner-killed");
  ChildSpec owner_spec;
  owner_spec.argv = {kHelper, "own-paused", dir.path(), kHelper};
  owner_spec.stdout_path = dir / "owner.log";
  ChildProcess owner = ChildProcess::spawn(owner_spec);
  const auto line =
      owner.wait_for_line([](const std::string& l) { return l.rfind("paused ", 0) == 0; }, 20s);
  INFO("owner log: " << owner.log_tail());
  REQUIRE(line);
  const pid_t service = static_cast<pid_t>(std::stol(line->substr(7)));
  REQUIRE(service > 0);
  const GroupMembers before = count_group_members(service);
  CHECK(before.live >= 1);
  CHECK(before.stopped == before.live);  // paused through the driver

  owner.send_signal(SIGKILL);
  REQUIRE(owner.wait_for_exit(10s));
  const auto killed = Clock::now();
  // The group's processes are reparented to us (spawn() made us a subreaper): reap them as
  // they end. The watchdog waits its 3 s grace at most; the margin is for a loaded machine.
  const bool group_gone = eventually(
      [&] {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        return ::kill(-service, 0) == -1 && errno == ESRCH;
      },
      15s);
  MESSAGE("paused service group gone "
          << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed).count()
          << " ms after its owner was killed");
  CHECK(group_gone);
  // The watchdog continues the group before SIGTERM: a paused service ends on SIGTERM, well
  // before the watchdog's 3 s grace would have it killed with SIGKILL.
  CHECK(Clock::now() - killed < 2500ms);
  if (!group_gone) ::kill(-service, SIGKILL);  // do not leak it into later tests
  owner.stop();
}

}  // namespace
}  // namespace faultline
