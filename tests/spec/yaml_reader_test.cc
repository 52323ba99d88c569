// YAML -> JSON DOM: core-schema typing, duplicate keys, merge keys, tabs, aliases, limits.
#include "spec/yaml_reader.h"

#include <doctest/doctest.h>

#include <memory>

#include "spec_test_support.h"

using namespace faultline;
using faultline::testing::summary;

namespace {

struct Read {
  rapidjson::Document doc;
  SourceMap map;
  std::vector<Diagnostic> diagnostics;
  bool parsed = false;
};

std::unique_ptr<Read> read_yaml(const std::string& text, const VariableLookup& lookup = {}) {
  auto r = std::make_unique<Read>();
  DiagnosticSink sink(r->map, r->diagnostics);
  r->parsed = read_yaml_document(text, "t.yaml", lookup, r->doc, r->map, sink);
  return r;
}

std::string at(const Diagnostic& d) {
  return std::to_string(d.loc.line) + ":" + std::to_string(d.loc.column);
}

const rapidjson::Value& get(const rapidjson::Value& v, const char* name) {
  REQUIRE(v.HasMember(name));
  return v[name];
}

}  // namespace

TEST_CASE("plain scalars follow the YAML 1.2 core schema") {
  auto r = read_yaml(
      "t: true\nf: False\nyes_: yes\non_: on\noctal_looking: 012\nhex: 0x1F\noctal: 0o17\n"
      "neg: -5\nfloat: 1.5\nexp: 1e3\nnull_: ~\nempty:\nquoted_true: \"true\"\n"
      "quoted_num: '012'\ntagged: !!str 5\nbig: 18446744073709551615\n"
      "text: 12 apples\nblock: |\n  x\n");
  REQUIRE(r->parsed);
  const auto& d = r->doc;
  CHECK(get(d, "t").IsBool());
  CHECK(get(d, "t").GetBool());
  CHECK(get(d, "f").IsBool());
  CHECK_FALSE(get(d, "f").GetBool());
  CHECK(get(d, "yes_").IsString());
  CHECK(get(d, "on_").IsString());
  CHECK(get(d, "octal_looking").IsUint64());
  CHECK(get(d, "octal_looking").GetUint64() == 12);
  CHECK(get(d, "hex").GetUint64() == 31);
  CHECK(get(d, "octal").GetUint64() == 15);
  CHECK(get(d, "neg").GetInt64() == -5);
  CHECK(get(d, "float").IsDouble());
  CHECK(get(d, "float").GetDouble() == 1.5);
  CHECK(get(d, "exp").GetDouble() == 1000.0);
  CHECK(get(d, "null_").IsNull());
  CHECK(get(d, "empty").IsNull());
  CHECK(std::string(get(d, "quoted_true").GetString()) == "true");
  CHECK(std::string(get(d, "quoted_num").GetString()) == "012");
  CHECK(std::string(get(d, "tagged").GetString()) == "5");
  CHECK(get(d, "big").GetUint64() == 18446744073709551615ULL);
  CHECK(std::string(get(d, "text").GetString()) == "12 apples");
  CHECK(std::string(get(d, "block").GetString()) == "x\n");
  // yes/on are text, with a warning that says so.
  const Diagnostic* w = faultline::testing::find_any(r->diagnostics, "\"yes\" is text");
  REQUIRE(w);
  CHECK(w->severity == "warning");
  CHECK(at(*w) == "3:7");
  CHECK_FALSE(has_errors(r->diagnostics));
}

TEST_CASE("non-finite numbers and unknown tags are errors") {
  auto r = read_yaml("a: .inf\nb: !custom x\nc: !!int abc\n");
  REQUIRE(r->parsed);
  CHECK(faultline::testing::find_error(r->diagnostics, "infinite"));
  const Diagnostic* tag = faultline::testing::find_error(r->diagnostics, "unsupported tag !custom");
  REQUIRE(tag);
  CHECK(at(*tag) == "2:12");
  CHECK(faultline::testing::find_error(r->diagnostics, "not a valid !!int"));
}

TEST_CASE("a duplicate key is an error at the second key") {
  auto r = read_yaml("a: 1\nb:\n  c: 2\n  d: 3\n  c: 4\n");
  REQUIRE(r->parsed);
  REQUIRE(r->diagnostics.size() == 1);
  const Diagnostic& d = r->diagnostics[0];
  CHECK(at(d) == "5:3");
  CHECK(d.path == "b.c");
  CHECK(d.message == "duplicate key \"c\" (first at line 3)");
  CHECK(d.length == 1);
  // The first value is kept.
  CHECK(r->doc["b"]["c"].GetUint64() == 2);
}

TEST_CASE("duplicate keys in flow mappings too") {
  auto r = read_yaml("a: {x: 1, x: 2}\n");
  REQUIRE(r->diagnostics.size() == 1);
  CHECK(at(r->diagnostics[0]) == "1:11");
}

TEST_CASE("merge keys are resolved with YAML 1.1 semantics") {
  auto r = read_yaml(
      "x-base: &base {duration: 10s, rate: 5/s}\n"
      "x-more: &more {rate: 9/s, ramp: none, duration: 99s}\n"
      "one:\n"
      "  <<: *base\n"
      "  rate: 7/s\n"
      "two:\n"
      "  <<: [*base, *more]\n"
      "  name: b\n");
  REQUIRE(r->parsed);
  CHECK(r->diagnostics.empty());
  const auto& one = r->doc["one"];
  CHECK(std::string(one["duration"].GetString()) == "10s");
  CHECK(std::string(one["rate"].GetString()) == "7/s");  // the mapping's own key wins
  CHECK_FALSE(one.HasMember("<<"));
  const auto& two = r->doc["two"];
  CHECK(std::string(two["rate"].GetString()) == "5/s");  // first merged mapping wins
  CHECK(std::string(two["duration"].GetString()) == "10s");
  CHECK(std::string(two["ramp"].GetString()) == "none");
  CHECK(std::string(two["name"].GetString()) == "b");
  // Merged values point at where they were written.
  const SourceEntry* e = r->map.find("/one/duration");
  REQUIRE(e);
  CHECK(e->value.line == 1);
  CHECK(e->value.column == 26);
  // A merge key is not a duplicate of an explicit key.
  CHECK_FALSE(has_errors(r->diagnostics));
}

TEST_CASE("a merge key that does not name mappings is an error") {
  auto r = read_yaml("a:\n  <<: 5\n  b: 1\n");
  REQUIRE(r->diagnostics.size() == 1);
  CHECK(at(r->diagnostics[0]) == "2:3");
  CHECK(r->diagnostics[0].message.find("merge key (<<)") != std::string::npos);
  CHECK(r->doc["a"]["b"].GetUint64() == 1);
}

TEST_CASE("tabs in indentation are reported where they are") {
  auto r = read_yaml("a:\n  b: 1\n\tc: 2\nd:\n \te: 3\n");
  CHECK_FALSE(r->parsed);
  REQUIRE(r->diagnostics.size() == 2);
  CHECK(at(r->diagnostics[0]) == "3:1");
  CHECK(r->diagnostics[0].message == "tab character in indentation");
  CHECK(at(r->diagnostics[1]) == "5:2");
  // A tab after a key is fine.
  auto ok = read_yaml("a:\t1\n");
  CHECK(ok->parsed);
  CHECK(ok->diagnostics.empty());
}

TEST_CASE("syntax errors become diagnostics in words") {
  auto r = read_yaml("a: [1, 2\nb: 3\n");
  CHECK_FALSE(r->parsed);
  REQUIRE(r->diagnostics.size() == 1);
  CHECK(r->diagnostics[0].message == "a list opened with '[' is not closed with ']'");
  auto colon = read_yaml("a: b: c\n");
  REQUIRE(colon->diagnostics.size() == 1);
  CHECK(at(colon->diagnostics[0]) == "1:5");
  CHECK(colon->diagnostics[0].message == "unexpected ':' here");
}

TEST_CASE("recursive aliases, deep nesting and a second document are refused") {
  auto cycle = read_yaml("a: &x [1, *x]\n");
  CHECK(faultline::testing::find_error(cycle->diagnostics, "alias refers to a mapping or list"));
  auto nested = read_yaml("a:\n" + [] {
    std::string s;
    for (int i = 0; i < 80; ++i) s += std::string(2 * i + 2, ' ') + "k:\n";
    return s;
  }());
  CHECK(faultline::testing::find_error(nested->diagnostics, "nested more than 64 levels"));
  auto two = read_yaml("a: 1\n---\nb: 2\n");
  const Diagnostic* d = faultline::testing::find_error(two->diagnostics, "a second YAML document");
  REQUIRE(d);
  CHECK(d->loc.line == 2);
  // An explicit start of the first document, comments and directives are not a second one.
  CHECK(read_yaml("# c\n%YAML 1.2\n---\na: 1\n...\n# end\n")->diagnostics.empty());
  auto after_end = read_yaml("a: 1\n...\nb: 2\n");
  REQUIRE(after_end->diagnostics.size() == 1);
  CHECK(after_end->diagnostics[0].loc.line == 3);
  // A block scalar line that starts with --- indented is content, not a marker.
  CHECK(read_yaml("a: |\n  ---\n  x\n")->diagnostics.empty());
}

TEST_CASE("input that sends yaml-cpp's LoadAll into an endless loop is read in bounded time") {
  // Found by fuzz_spec_loader: YAML::LoadAll keeps returning empty documents for these.
  for (const char* text : {",", ", a", "# c\n,", "[a],", ",,"}) {
    auto r = read_yaml(text);
    CHECK(r->diagnostics.size() <= 1);
  }
}

TEST_CASE("alias expansion is bounded") {
  // Each level doubles the values: 2^20 without the bound.
  std::string text = "l0: &l0 [x, x]\n";
  for (int i = 1; i <= 20; ++i) {
    text += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" + std::to_string(i - 1) +
            ", *l" + std::to_string(i - 1) + "]\n";
  }
  auto r = read_yaml(text);
  CHECK(faultline::testing::find_error(r->diagnostics, "values once aliases are expanded"));
  CHECK(summary(r->diagnostics).size() < 2000);
}

TEST_CASE("a large document without aliases is not cut by the expansion budget") {
  // 40 000 entries of three values: 120 001 values, over the 100 000 aliases may add, but
  // every one is written out in the text (a generated spec with 10 000 routes is this size).
  std::string text = "items:\n";
  for (int i = 0; i < 40000; ++i) text += "  - {a: " + std::to_string(i) + "}\n";
  auto r = read_yaml(text);
  CHECK_FALSE(faultline::testing::find_error(r->diagnostics, "values once aliases are expanded"));
  REQUIRE(r->doc["items"].IsArray());
  CHECK(r->doc["items"].Size() == 40000);
  CHECK(r->doc["items"][39999]["a"].GetUint64() == 39999);
}

TEST_CASE("substitution happens before typing, in values only") {
  auto r =
      read_yaml("seed: ${SEED:-42}\nname: ${NAME}\n${KEY}: 1\nq: \"${SEED:-7}\"\nlit: $${HOME}\n",
                [](const std::string& n) -> std::optional<std::string> {
                  if (n == "NAME") return "demo";
                  return std::nullopt;
                });
  REQUIRE(r->parsed);
  CHECK(r->diagnostics.empty());
  CHECK(r->doc["seed"].GetUint64() == 42);
  CHECK(std::string(r->doc["name"].GetString()) == "demo");
  CHECK(r->doc.HasMember("${KEY}"));
  CHECK(std::string(r->doc["q"].GetString()) == "7");  // quoted: stays text
  CHECK(std::string(r->doc["lit"].GetString()) == "${HOME}");
}

TEST_CASE("an unset variable is an error at its place") {
  auto r = read_yaml("a: \"x ${MISSING} y\"\nb: ok ${ALSO_MISSING}\n");
  REQUIRE(r->diagnostics.size() == 2);
  CHECK(at(r->diagnostics[0]) == "1:7");
  CHECK(r->diagnostics[0].message == "variable MISSING is not set");
  CHECK(r->diagnostics[0].length == 10);
  CHECK(at(r->diagnostics[1]) == "2:7");
  CHECK(r->diagnostics[1].hint.find("--set ALSO_MISSING=") != std::string::npos);
}
