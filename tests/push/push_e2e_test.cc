// End to end: Debian's prometheus-pushgateway on a free loopback port, `faultline run --push`
// against the demo services, and the pushed series read back from the Pushgateway's /metrics
// and compared with the run's artifact. Also: a push that fails turns exit 0 into 3 and keeps
// exit 1.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <string>

#include "demo_cluster.h"
#include "faultline_runs.h"
#include "net/http_call.h"
#include "observe/metrics_text_parser.h"
#include "proc/child_process.h"
#include "temp_dir.h"

using namespace faultline;
using namespace std::chrono_literals;
using testing::TempDir;

namespace {

// A Pushgateway this test started; stopped by PID (process group) when it goes.
struct Pushgateway : testing::LoopbackServer {
  explicit Pushgateway(const TempDir& dir)
      : LoopbackServer(
            [&](int port) {
              return std::vector<std::string>{
                  PUSHGATEWAY_BIN, "--web.listen-address=127.0.0.1:" + std::to_string(port),
                  "--persistence.file=" + dir / "pushgateway.data"};
            },
            dir / "pushgateway", "/-/ready", 10s) {}

  observe::Exposition metrics() const {
    const HttpResponse r = testing::http_get(url + "/metrics");
    REQUIRE(r.status == 200);
    return observe::MetricsTextParser().parse(r.body);
  }
};

// The value of the one series named `name` whose labels include every pair of `labels`.
std::optional<double> value_of(const observe::Exposition& e, const std::string& name,
                               const std::map<std::string, std::string>& labels) {
  std::optional<double> found;
  int matches = 0;
  for (const auto& f : e.families)
    for (const auto& s : f.samples) {
      if (s.name != name) continue;
      bool all = true;
      for (const auto& [k, v] : labels) all = all && observe::label_value(s.labels, k) == v;
      if (all) {
        found = s.value;
        ++matches;
      }
    }
  CHECK_MESSAGE(matches <= 1, name << " matched " << matches << " series");
  return found;
}

double verdict_value(const std::string& status) {
  return status == "pass" ? 1 : status == "fail" ? 0 : -1;
}

// Every per-phase figure and verdict of the run's artifact is in the Pushgateway, under the
// run's grouping key.
void check_pushed(const observe::Exposition& e, const testing::Run& r, const std::string& cell) {
  REQUIRE(r.report.IsObject());
  const std::string scenario = r.report["meta"]["scenario"].GetString();
  const std::map<std::string, std::string> group = {
      {"job", "faultline"}, {"scenario", scenario}, {"cell", cell}};
  auto with = [&](std::map<std::string, std::string> more) {
    more.insert(group.begin(), group.end());
    return more;
  };
  CHECK(value_of(e, "faultline_run_exit_code", group) == r.exit_code);
  CHECK(value_of(e, "faultline_run_status", with({{"status", r.status()}})) == 1.0);
  CHECK(value_of(e, "faultline_run_end_time_seconds", group).value_or(0) > 1.7e9);
  const auto& phases = r.report["phases"];
  REQUIRE(phases.Size() > 0);
  for (const auto& p : phases.GetArray()) {
    const std::string phase = p["name"].GetString();
    INFO("phase " << phase);
    const auto& client = p["client"];
    CHECK(value_of(e, "faultline_phase_requests_sent", with({{"phase", phase}})) ==
          static_cast<double>(client["sent"].GetInt64()));
    CHECK(value_of(e, "faultline_phase_error_ratio", with({{"phase", phase}})) ==
          doctest::Approx(client["error_rate"].GetDouble()));
    CHECK(value_of(e, "faultline_phase_achieved_rps", with({{"phase", phase}})) ==
          doctest::Approx(client["achieved_rps"].GetDouble()));
    if (client["latency_ms"].HasMember("p99"))
      CHECK(value_of(e, "faultline_phase_latency_seconds",
                     with({{"phase", phase}, {"quantile", "0.99"}})) ==
            doctest::Approx(client["latency_ms"]["p99"].GetDouble() / 1000.0));
  }
  const auto& assertions = r.report["assertions"];
  REQUIRE(assertions.Size() > 0);
  int index = 0;
  for (const auto& a : assertions.GetArray()) {
    INFO("assertion " << a["canonical"].GetString());
    CHECK(value_of(e, "faultline_assertion_verdict",
                   with({{"index", std::to_string(index++)},
                         {"assertion", a["canonical"].GetString()}})) ==
          verdict_value(a["status"].GetString()));
  }
}

}  // namespace

TEST_CASE("push: a passing and a failing run land in the Pushgateway as their artifacts say") {
  TempDir dir("push-e2e");
  Pushgateway pg(dir);

  const testing::Run pass =
      testing::run_faultline({"run", "specs/smoke.yaml", "--duration", "4s", "--push", pg.url,
                              "--push-label", "cell=smoke-short"},
                             "push-pass");
  INFO(pass.output);
  REQUIRE(pass.exit_code == 0);
  CHECK(pass.output.find("pushed: " + pg.url) != std::string::npos);

  // The negative control: the run fails (exit 1) and its failed verdicts are pushed as 0.
  const testing::Run fail = testing::run_faultline(
      {"run", "tests/integration/specs/error-storm-no-fault.yaml", "--duration", "6s", "--push",
       pg.url, "--push-label", "cell=error-storm-nf"},
      "push-fail");
  INFO(fail.output);
  REQUIRE(fail.exit_code == 1);

  const observe::Exposition e = pg.metrics();
  check_pushed(e, pass, "smoke-short");
  check_pushed(e, fail, "error-storm-nf");
  CHECK(value_of(e, "faultline_assertion_verdict", {{"cell", "error-storm-nf"}, {"index", "0"}}) ==
        0.0);
}

TEST_CASE("push: a failed push turns a passing run's exit 0 into 3 and keeps a failing run's 1") {
  std::string dead_url;
  {
    TempDir dir("push-e2e-dead");
    Pushgateway pg(dir);
    dead_url = pg.url;
  }  // stopped: nothing listens there now (a port reused in this moment would answer 404)

  const testing::Run pass = testing::run_faultline(
      {"run", "specs/smoke.yaml", "--duration", "3s", "--push", dead_url}, "push-dead-pass");
  INFO(pass.output);
  CHECK(pass.status() == "passed");
  CHECK(pass.exit_code == 3);
  CHECK(pass.output.find("push: push to " + dead_url + " failed") != std::string::npos);

  const testing::Run fail =
      testing::run_faultline({"run", "tests/integration/specs/error-storm-no-fault.yaml",
                              "--duration", "6s", "--push", dead_url},
                             "push-dead-fail");
  INFO(fail.output);
  CHECK(fail.status() == "failed");
  CHECK(fail.exit_code == 1);
}

// A "Pushgateway" that accepts connections (the kernel completes them from the backlog) and
// never answers: the push gives up after --push-timeout instead of holding the run.
TEST_CASE("push: a Pushgateway that never answers fails the push after --push-timeout") {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(fd, 8) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  const auto start = std::chrono::steady_clock::now();
  const testing::Run r = testing::run_faultline(
      {"run", "specs/smoke.yaml", "--duration", "3s", "--push", url, "--push-timeout", "1s"},
      "push-hung", 60s);
  const auto took = std::chrono::steady_clock::now() - start;
  close(fd);
  INFO(r.output);
  CHECK(r.status() == "passed");
  CHECK(r.exit_code == 3);
  CHECK(r.output.find("no answer within 1000ms") != std::string::npos);
  CHECK(took < 30s);  // the run itself takes about 5 s; without the timeout it never ends
}

TEST_CASE("push: a remote Pushgateway is refused before anything runs") {
  const testing::Run r = testing::run_faultline(
      {"run", "specs/smoke.yaml", "--push", "http://192.0.2.1:9091"}, "push-remote");
  CHECK(r.exit_code == 2);
  CHECK(r.artifact.empty());
  CHECK(r.output.find("--push-allow-remote") != std::string::npos);
}
