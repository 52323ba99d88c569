// The schema walk reports what RapidJSON's validator rejects, all of it, in words; and the
// embedded schemas are the files in schemas/.
#include "spec/schema_checker.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "spec/embedded_schemas.h"
#include "spec/yaml_reader.h"
#include "spec_test_support.h"

using namespace faultline;

namespace {

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Reads YAML and runs only the schema walk; returns the errors.
std::vector<Diagnostic> walk(const SchemaChecker& checker, const std::string& yaml,
                             bool* reference_accepts = nullptr) {
  rapidjson::Document doc;
  SourceMap map;
  std::vector<Diagnostic> out;
  DiagnosticSink sink(map, out);
  REQUIRE(read_yaml_document(yaml, "t.yaml", VariableLookup(), doc, map, sink));
  REQUIRE(out.empty());
  checker.check(doc, sink);
  if (reference_accepts) *reference_accepts = checker.reference_accepts(doc);
  return out;
}

const SchemaChecker& toy() {
  static const SchemaChecker checker(R"({
    "type": "object", "additionalProperties": false, "required": ["a"],
    "properties": {
      "a": {"type": "integer", "minimum": 1, "maximum": 9},
      "b": {"$ref": "#/definitions/word"},
      "c": {"type": "array", "minItems": 2, "items": {"enum": ["x", "y"]}},
      "d": {"anyOf": [{"type": "string", "title": "a name"}, {"$ref": "#/definitions/obj"}]},
      "e": {"type": "object", "not": {"required": ["p", "q"]}},
      "f": {"type": "object", "oneOf": [{"required": ["u"]}, {"required": ["v"]}]}
    },
    "definitions": {
      "word": {"title": "a word like \"abc\"", "description": "letters only",
               "type": "string", "pattern": "^[a-z]+$"},
      "obj": {"type": "object", "additionalProperties": false,
              "properties": {"k": {"type": "boolean"}}}
    }})");
  return checker;
}

}  // namespace

TEST_CASE("the embedded schemas are the files in schemas/, byte for byte") {
  const std::string dir = std::string(FAULTLINE_SOURCE_DIR) + "/schemas/";
  CHECK(scenario_schema_json() == file_text(dir + "scenario.schema.json"));
  CHECK(environment_schema_json() == file_text(dir + "environment.schema.json"));
}

TEST_CASE("every property of both schemas has a description (editor hover)") {
  for (auto text : {scenario_schema_json(), environment_schema_json()}) {
    rapidjson::Document d;
    d.Parse(text.data(), text.size());
    REQUIRE_FALSE(d.HasParseError());
    std::vector<std::string> missing;
    std::function<void(const rapidjson::Value&, const std::string&)> visit =
        [&](const rapidjson::Value& v, const std::string& where) {
          if (!v.IsObject()) return;
          for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
            const std::string key = m->name.GetString();
            if ((key == "properties" || key == "patternProperties") && m->value.IsObject()) {
              for (auto p = m->value.MemberBegin(); p != m->value.MemberEnd(); ++p) {
                if (!p->value.HasMember("description")) {
                  missing.push_back(where + "/" + p->name.GetString());
                }
              }
            }
            visit(m->value, where + "/" + key);
          }
        };
    visit(d, "");
    CHECK_MESSAGE(missing.empty(), (missing.empty() ? std::string() : missing[0]));
  }
}

TEST_CASE("every violation is reported, in words, with its path") {
  bool accepted = true;
  const auto ds =
      walk(toy(), "b: ABC\nc: [x, z]\nd: 5\ne: {p: 1, q: 2}\nf: {}\nzzz: 1\n", &accepted);
  CHECK_FALSE(accepted);
  std::vector<std::string> got;
  for (const auto& d : ds) got.push_back(d.path + ": " + d.message);
  CHECK(got == std::vector<std::string>{
                   ": missing required field \"a\"",
                   "b: expected a word like \"abc\", got \"ABC\"",
                   "c[1]: expected one of x or y, got \"z\"",
                   "d: expected a name or a mapping, got 5",
                   "e: \"p\" and \"q\" cannot be used together",
                   "f: needs one of u or v",
                   "zzz: unknown field \"zzz\"",
               });
  // Hints: the schema's description, or what is allowed.
  CHECK(ds[1].hint == "letters only");
  CHECK(ds[6].hint == "allowed here: a, b, c, d, e, f");
}

TEST_CASE("bounds, sizes, types, alternatives") {
  bool accepted = true;
  auto ds = walk(toy(), "a: 10\nc: [x]\nd: {k: 1}\n", &accepted);
  CHECK_FALSE(accepted);
  REQUIRE(ds.size() == 3);
  CHECK(ds[0].message == "expected a number of at most 9, got 10");
  CHECK(ds[1].message == "expected at least 2 entries, got 1");
  CHECK(ds[2].path == "d.k");  // the one alternative of the right type explains itself
  CHECK(ds[2].message == "expected true or false, got 1");
  ds = walk(toy(), "a: 1.5\n", &accepted);
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].message == "expected a whole number, got 1.5");
  ds = walk(toy(), "a: 3\nf: {u: 1, v: 2}\n", &accepted);
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].message == "set only one of u, v");
  ds = walk(toy(), "a: 3\nb: abc\nc: [x, x]\nd: name\ne: {p: 1}\nf: {u: 1}\n", &accepted);
  CHECK(ds.empty());
  CHECK(accepted);
}

TEST_CASE("misspelt keys and enum values get a did-you-mean") {
  const auto ds = walk(scenario_schema_checker(),
                       "name: x\ntarget: api\ntraffic:\n  arival: poisson\n  arrival: poison\n"
                       "  routes: []\nphases: [{name: a, duraton: 1s}]\n");
  std::vector<std::string> hints;
  for (const auto& d : ds) hints.push_back(d.path + " " + d.hint);
  CHECK(std::find(hints.begin(), hints.end(), "traffic.arival did you mean \"arrival\"?") !=
        hints.end());
  CHECK(std::find(hints.begin(), hints.end(), "traffic.arrival did you mean \"poisson\"?") !=
        hints.end());
  CHECK(std::find(hints.begin(), hints.end(), "phases[0].duraton did you mean \"duration\"?") !=
        hints.end());
}

TEST_CASE("a number where a duration is expected gets a unit hint") {
  const auto ds = walk(scenario_schema_checker(),
                       "name: x\ntarget: api\ntraffic: {routes: [{name: a, request: GET /}]}\n"
                       "phases: [{name: a, duration: 30}]\n");
  REQUIRE(ds.size() == 1);
  CHECK(ds[0].message == "expected a duration like \"30s\", got 30");
  CHECK(ds[0].hint == "add a unit, e.g. \"30s\"");
}
