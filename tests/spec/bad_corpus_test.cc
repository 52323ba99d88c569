// The corpus of bad specs: tests/spec/bad/*.yaml each start with the diagnostics they must
// produce, one per line:
//   # expect: 14:9: phases[1].duration: expected a duration
//   # hint: did you mean "duration"?          (optional; a part of the previous one's hint)
// An expectation for another file names it first, relative to bad/:
//   # expect: lib/env-cycle.yaml:7:5: services.a.command[1]: services depend on each other
// Every file must be invalid, and every expectation must match a diagnostic whose
// "line:col: path: message" starts with the expected text.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include "spec/schema_checker.h"
#include "spec/yaml_reader.h"
#include "spec_test_support.h"

using namespace faultline;
namespace fs = std::filesystem;

namespace {

struct Expectation {
  std::string file;
  std::string text;  // "line:col: path: message" prefix
  std::string hint;
};

struct InRepositoryRoot {
  InRepositoryRoot() : saved(fs::current_path()) { fs::current_path(FAULTLINE_SOURCE_DIR); }
  ~InRepositoryRoot() { fs::current_path(saved); }
  fs::path saved;
};

const std::string kBadDir = "tests/spec/bad";

std::vector<std::string> corpus() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kBadDir)) {
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::vector<Expectation> expectations(const std::string& path) {
  std::vector<Expectation> out;
  std::istringstream in(read_all(path));
  const std::regex with_file(R"(^(\S+\.yaml):(\d+:\d+: .*)$)");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# expect: ", 0) == 0) {
      const std::string rest = line.substr(10);
      std::smatch m;
      if (std::regex_match(rest, m, with_file)) {
        out.push_back({kBadDir + "/" + m[1].str(), m[2].str(), ""});
      } else {
        out.push_back({path, rest, ""});
      }
    } else if (line.rfind("# hint: ", 0) == 0 && !out.empty()) {
      out.back().hint = line.substr(8);
    }
  }
  return out;
}

std::string key(const Diagnostic& d) {
  return std::to_string(d.loc.line) + ":" + std::to_string(d.loc.column) + ": " +
         (d.path.empty() ? "" : d.path + ": ") + d.message;
}

LoadOptions corpus_options() {
  LoadOptions o;
  o.process_env = [](const std::string&) { return std::nullopt; };
  return o;
}

}  // namespace

TEST_CASE("every bad spec produces the diagnostics it names") {
  InRepositoryRoot root;
  const auto files = corpus();
  CHECK(files.size() >= 40);
  for (const auto& file : files) {
    CAPTURE(file);
    const auto expected = expectations(file);
    CHECK_MESSAGE(!expected.empty(), "no # expect: line");
    const ScenarioLoad load = load_scenario(file, corpus_options());
    const std::string all = faultline::testing::summary(load.diagnostics);
    CHECK_MESSAGE(!load.ok(), all);
    for (const auto& e : expected) {
      const auto match =
          std::find_if(load.diagnostics.begin(), load.diagnostics.end(), [&](const Diagnostic& d) {
            return d.loc.file == e.file && key(d).rfind(e.text, 0) == 0 &&
                   d.hint.find(e.hint) != std::string::npos;
          });
      CHECK_MESSAGE(match != load.diagnostics.end(),
                    "expected " << e.file << ":" << e.text
                                << (e.hint.empty() ? "" : " with hint " + e.hint) << "\ngot:\n"
                                << all);
    }
    // Every diagnostic has a place, except an unreadable file's.
    for (const auto& d : load.diagnostics) {
      CHECK_MESSAGE((d.loc.line > 0 || d.message.rfind("cannot read", 0) == 0), key(d));
    }
  }
}

TEST_CASE("the schema walk and RapidJSON's validator agree on every corpus file") {
  InRepositoryRoot root;
  size_t compared = 0;
  for (const auto& file : corpus()) {
    CAPTURE(file);
    rapidjson::Document doc;
    SourceMap map;
    std::vector<Diagnostic> read_problems;
    DiagnosticSink reader_sink(map, read_problems);
    if (!read_yaml_document(read_all(file), file, VariableLookup(), doc, map, reader_sink) ||
        has_errors(read_problems) || !doc.IsObject() || doc.HasMember("extends")) {
      continue;  // not a schema case
    }
    std::vector<Diagnostic> walked;
    SourceMap fresh;
    DiagnosticSink sink(fresh, walked);
    scenario_schema_checker().check(doc, sink);
    const bool reference = scenario_schema_checker().reference_accepts(doc);
    CHECK_MESSAGE(walked.empty() == reference, faultline::testing::summary(walked));
    ++compared;
  }
  // Most corpus files are plain documents; a reader that skipped them all would compare
  // nothing and pass.
  CHECK(compared >= 40);  // 45 of the 58 when this was written
}
