// Every scenario in specs/ and environment in envs/ is valid, and RapidJSON's own validator
// agrees with the schema walk about them.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "spec/schema_checker.h"
#include "spec/yaml_reader.h"
#include "spec_test_support.h"

using namespace faultline;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> yaml_files(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(std::string(FAULTLINE_SOURCE_DIR) + "/" + dir)) {
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Specs name their environment relative to the repository root (envs/local.yaml by default).
struct InRepositoryRoot {
  InRepositoryRoot() : saved(fs::current_path()) { fs::current_path(FAULTLINE_SOURCE_DIR); }
  ~InRepositoryRoot() { fs::current_path(saved); }
  fs::path saved;
};

}  // namespace

TEST_CASE("every spec in specs/ validates") {
  InRepositoryRoot root;
  const auto files = yaml_files("specs");
  CHECK(files.size() >= 4);
  for (const auto& path : files) {
    const std::string rel = fs::relative(path, FAULTLINE_SOURCE_DIR).string();
    LoadOptions o;
    o.process_env = [](const std::string&) { return std::nullopt; };
    const ScenarioLoad load = load_scenario(rel, o);
    CHECK_MESSAGE(load.ok(), rel << "\n" << faultline::testing::summary(load.diagnostics));
    CHECK_MESSAGE(load.diagnostics.empty(), faultline::testing::summary(load.diagnostics));
    if (!load.ok()) continue;
    // The run takes about a minute or less by default; phases warmup/trigger/cooldown.
    Duration total{0};
    for (const auto& p : load.scenario->phases) total += p.duration;
    CHECK(total <= std::chrono::seconds(60));
    CHECK(load.scenario->find_phase("warmup"));
    CHECK(load.scenario->find_phase("trigger"));
    CHECK(load.scenario->find_phase("cooldown"));
    CHECK(load.scenario->target == "api");
    CHECK_FALSE(load.scenario->assertions.empty());
  }
}

TEST_CASE("every environment in envs/ validates and only allows loopback") {
  InRepositoryRoot root;
  const auto files = yaml_files("envs");
  CHECK(files.size() >= 5);
  size_t started_here = 0;
  for (const auto& path : files) {
    const std::string rel = fs::relative(path, FAULTLINE_SOURCE_DIR).string();
    LoadOptions o;
    o.process_env = [](const std::string&) { return std::nullopt; };
    const EnvironmentLoad load = load_environment(rel, o);
    CHECK_MESSAGE(load.ok(), rel << "\n" << faultline::testing::summary(load.diagnostics));
    if (!load.ok()) continue;
    CHECK(load.environment->allow == std::vector<std::string>{"127.0.0.0/8", "::1", "localhost"});
    const ServiceSpec* api = load.environment->find("api");
    REQUIRE(api);
    CHECK(api->faults);
    if (!api->command.empty()) {  // started by faultline (not e.g. envs/compose.yaml)
      CHECK(api->command.at(0) == "build/demo-services/faultline-demo");
      // Directly, or through the proxies of envs/local-proxied.yaml.
      const std::vector<std::string> deps =
          rel == "envs/local-proxied.yaml"
              ? std::vector<std::string>{"api_to_redis", "api_to_payment"}
              : std::vector<std::string>{"redis", "payment"};
      CHECK_MESSAGE(api->depends_on == deps, rel);
      ++started_here;
    }
  }
  CHECK(started_here >= 4);  // local, local-fixed, local-cascade, local-cascade-fixed
}

TEST_CASE("RapidJSON's validator accepts the shipped files") {
  InRepositoryRoot root;
  std::map<std::string, size_t> validated;
  for (const auto& [dir, checker] : {std::make_pair("specs", &scenario_schema_checker()),
                                     std::make_pair("envs", &environment_schema_checker())}) {
    for (const auto& path : yaml_files(dir)) {
      // The merged document as the loader sees it (extends resolved) is what is validated;
      // these files either do not extend or extend a file of the same kind.
      rapidjson::Document doc;
      SourceMap map;
      std::vector<Diagnostic> ds;
      DiagnosticSink sink(map, ds);
      std::ifstream in(path);
      const std::string text((std::istreambuf_iterator<char>(in)), {});
      REQUIRE(read_yaml_document(text, path.string(), VariableLookup(), doc, map, sink));
      if (doc.HasMember("extends")) continue;
      CHECK_MESSAGE(checker->reference_accepts(doc), path.string());
      ++validated[dir];
    }
  }
  CHECK(validated["specs"] >= 4);
  CHECK(validated["envs"] >= 2);  // local.yaml and compose.yaml; the rest extend local.yaml
}
