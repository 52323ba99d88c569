// Setup and verify hooks and the id history, end to end: faultline starts ack_target (an order
// store that loses every 5th order and applies every 7th twice), a setup hook clears it, a
// verify hook reads the ids it applied, and the run must name exactly the lost and duplicated
// ids, in the artifact and in `faultline judge` of the bundle alone. Each run is 3 s at 20/s.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "faultline_runs.h"
#include "temp_dir.h"

using namespace faultline;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using testing::Run;
using testing::run_faultline_in;
using testing::TempDir;

// Writes env.yaml and hooks.yaml into `dir`; `verify` is the YAML of the verify hook list.
std::vector<std::string> hooks_run(const std::string& dir, const std::string& setup,
                                   const std::string& verify, const std::string& asserts) {
  {
    std::ofstream env(dir + "/env.yaml");
    env << "version: 1\nname: acks\nservices:\n  store:\n    command: [\"" << ACK_TARGET
        << "\", --port, \"{port}\", --lose, \"5\", --dup, \"7\"]\n"
        << "    ready: {path: /ready, timeout: 5s}\n";
  }
  {
    std::ofstream spec(dir + "/hooks.yaml");
    spec << "version: 1\nname: hooks\nseed: 3\ntarget: store\n"
         << "traffic:\n  rate: 20/s\n  timeout: 2s\n  routes:\n"
         << "    - {name: orders, request: POST /orders, body: {item: x}, ack_id: /order_id}\n"
         << "phases:\n  - {name: steady, duration: 3s}\n"
         << "observe:\n  targets: [store]\n"
         << "hooks:\n  setup:\n"
         << setup << "  verify:\n"
         << verify << "assert:\n"
         << asserts;
  }
  return {"run", dir + "/hooks.yaml", "--env", dir + "/env.yaml", "--progress", "quiet"};
}

const char* kSetup = "    - {name: clear, http: {service: store, path: /reset, method: POST}}\n";
const char* kVerify =
    "    - {name: effects, http: {service: store, path: /applied}, applied_ids: /applied}\n";

std::set<std::string> examples(const rapidjson::Value& set) {
  std::set<std::string> out;
  for (const auto& e : set["examples"].GetArray()) out.insert(e.GetString());
  return out;
}

std::string bundle_of(const Run& r) {
  return r.artifact.substr(0, r.artifact.size() - 5);
}

}  // namespace

TEST_CASE("the id history names the lost and duplicated orders, and judge agrees from the bundle") {
  const TempDir tmp("hooks-history");
  const std::string dir = tmp.path();
  const Run r = run_faultline_in(
      hooks_run(dir, kSetup, kVerify,
                "  - \"overall: history.lost == 0\"\n"
                "  - \"overall: history.unexpected == 0\"\n"
                "  - \"overall: verify.effects(\\\"/count\\\") < count(route=orders, "
                "status=2xx)\"\n"),
      dir, 60s);
  INFO(r.output);
  REQUIRE_FALSE(r.artifact.empty());
  CHECK(r.exit_code == 1);  // orders were lost: the first assertion fails
  const auto& h = r.report["history"];
  REQUIRE(h.IsObject());
  const int64_t acked = h["acknowledged"].GetInt64();
  // 3 s at 20/s, every one acknowledged with its id.
  CHECK(acked == r.report["phases"][0]["client"]["sent"].GetInt64());
  CHECK(acked >= 55);
  CHECK(h["ack_missing"].GetInt64() == 0);
  // The store numbers orders from 1 as they arrive: every 5th is not applied, every 7th is
  // applied once more (so the 35th is applied once: neither lost nor duplicated).
  std::set<std::string> lost, dup;
  for (int n = 1; n <= acked; ++n) {
    if (n % 5 == 0 && n % 7 != 0) lost.insert("o-" + std::to_string(n));
    if (n % 7 == 0 && n % 5 != 0) dup.insert("o-" + std::to_string(n));
  }
  CHECK(h["lost"]["count"].GetInt64() == static_cast<int64_t>(lost.size()));
  CHECK(examples(h["lost"]) == lost);
  CHECK(h["duplicated"]["count"].GetInt64() == static_cast<int64_t>(dup.size()));
  CHECK(examples(h["duplicated"]) == dup);
  CHECK(h["unexpected"]["count"].GetInt64() == 0);
  CHECK(std::string(h["source_hook"].GetString()) == "effects");
  const auto& a = r.report["assertions"];
  CHECK(std::string(a[0]["status"].GetString()) == "fail");
  CHECK(std::string(a[1]["status"].GetString()) == "pass");
  CHECK(std::string(a[2]["status"].GetString()) == "pass");
  // The hooks ran, in order, and left their output in the bundle.
  const auto& hooks = r.report["hooks"];
  REQUIRE(hooks.Size() == 2);
  CHECK(std::string(hooks[0]["stage"].GetString()) == "setup");
  CHECK(hooks[1]["ok"].GetBool());
  const std::string bundle = bundle_of(r);
  CHECK(fs::exists(bundle + "/hooks/effects.out"));
  CHECK(fs::exists(bundle + "/hooks/effects.status.json"));

  // faultline judge, from the bundle alone (the store is gone): the same verdicts.
  const Run j = run_faultline_in({"judge", r.artifact}, dir, 30s);
  INFO(j.output);
  CHECK(j.exit_code == 1);
  CHECK(j.output.find("history.lost") != std::string::npos);
  CHECK(j.output.find("result: failed") != std::string::npos);
}

TEST_CASE("a failing setup hook is exit 3, names the hook and sends nothing") {
  const TempDir tmp("hooks-setup-fails");
  const std::string dir = tmp.path();
  const Run r = run_faultline_in(
      hooks_run(dir, "    - {name: seed, exec: [sh, -c, \"echo no seed >&2; exit 4\"]}\n", kVerify,
                "  - \"overall: history.lost == 0\"\n"),
      dir, 60s);
  INFO(r.output);
  CHECK(r.exit_code == 3);
  CHECK(r.output.find("setup hook 'seed' failed: exited with 4: no seed") != std::string::npos);
  REQUIRE_FALSE(r.artifact.empty());
  for (const auto& p : r.report["phases"].GetArray()) CHECK(p["client"]["sent"].GetInt64() == 0);
}

TEST_CASE("a verify hook whose output has no applied_ids array is exit 3, history inconclusive") {
  const TempDir tmp("hooks-verify-fails");
  const std::string dir = tmp.path();
  const Run r = run_faultline_in(
      hooks_run(dir, kSetup,
                "    - {name: effects, exec: [echo, '{\"applied\": 3}'], applied_ids: /applied}\n",
                "  - \"overall: history.lost == 0\"\n"),
      dir, 60s);
  INFO(r.output);
  CHECK(r.exit_code == 3);
  CHECK(r.output.find("verify hook 'effects' failed: applied_ids /applied is not an array") !=
        std::string::npos);
  REQUIRE_FALSE(r.artifact.empty());
  CHECK(r.report["history"].IsNull());
  CHECK(std::string(r.report["assertions"][0]["status"].GetString()) == "inconclusive");
}
