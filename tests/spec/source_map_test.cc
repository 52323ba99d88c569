// The source map: JSON pointer -> file:line:col, exactly, and offsets inside scalars.
#include "spec/source_map.h"

#include <doctest/doctest.h>

#include "spec/diagnostic_sink.h"
#include "spec/yaml_reader.h"

using namespace faultline;

namespace {

struct Read {
  rapidjson::Document doc;
  SourceMap map;
  std::vector<Diagnostic> diagnostics;
};

void read(const std::string& text, Read& r) {
  DiagnosticSink sink(r.map, r.diagnostics);
  REQUIRE(read_yaml_document(text, "t.yaml", VariableLookup(), r.doc, r.map, sink));
}

std::string at(const SourceLoc& l) {
  return std::to_string(l.line) + ":" + std::to_string(l.column);
}

}  // namespace

TEST_CASE("pointers map to the line and column of keys and values") {
  Read r;
  read(
      "name: demo\n"
      "traffic:\n"
      "  routes:\n"
      "    - name: users\n"
      "      request: \"GET /users\"\n"
      "    - {name: orders, weight: 3}\n"
      "phases:\n"
      "  - name: warmup\n"
      "    duration:   30s\n",
      r);
  CHECK(r.diagnostics.empty());
  const SourceEntry* e = r.map.find("/name");
  REQUIRE(e);
  CHECK(at(e->key) == "1:1");
  CHECK(at(e->value) == "1:7");
  CHECK(e->value.file == "t.yaml");
  CHECK(e->value_length == 4);

  e = r.map.find("/traffic/routes/0/request");
  REQUIRE(e);
  CHECK(at(e->key) == "5:7");
  CHECK(at(e->value) == "5:16");
  CHECK(e->style == ScalarStyle::kDoubleQuoted);
  CHECK(e->value_length == 12);  // with its quotes

  e = r.map.find("/traffic/routes/1/weight");
  REQUIRE(e);
  CHECK(at(e->key) == "6:22");
  CHECK(at(e->value) == "6:30");

  e = r.map.find("/traffic/routes/1");
  REQUIRE(e);
  CHECK(at(e->value) == "6:7");

  e = r.map.find("/phases/0/duration");
  REQUIRE(e);
  CHECK(at(e->key) == "9:5");
  CHECK(at(e->value) == "9:17");

  CHECK(r.map.find("/nope") == nullptr);
  CHECK(r.map.find_nearest("/phases/0/nope") == r.map.find("/phases/0"));
  CHECK(r.map.line_text("t.yaml", 9) == "    duration:   30s");
}

TEST_CASE("offsets inside scalars of every style map to columns") {
  Read r;
  read(
      "plain: during(trigger) p95 > 1s\n"
      "single: 'it''s p95 > 1s'\n"
      "double: \"a\\tb p95\"\n"
      "anchored: &x  p95 > 1s\n"
      "literal: |\n"
      "  during(trigger):\n"
      "    p95 > 1s\n"
      "folded: >-\n"
      "  during(trigger):\n"
      "  p95 > 1s\n",
      r);
  CHECK(r.diagnostics.empty());
  CHECK(at(r.map.locate_in_value("/plain", 0)) == "1:8");
  CHECK(at(r.map.locate_in_value("/plain", 16)) == "1:24");  // the p of p95
  CHECK(at(r.map.locate_in_value("/single", 3)) == "2:14");  // 's' after the doubled quote
  CHECK(at(r.map.locate_in_value("/double", 2)) == "3:13");  // 'b' after the \t escape
  CHECK(at(r.map.locate_in_value("/anchored", 0)) == "4:15");
  CHECK(at(r.map.locate_in_value("/literal", 0)) == "6:3");
  CHECK(at(r.map.locate_in_value("/literal", 19)) == "7:5");  // p95, indented more
  CHECK(at(r.map.locate_in_value("/folded", 17)) == "10:3");
}

TEST_CASE("human paths read like field access") {
  CHECK(human_path("") == "");
  CHECK(human_path("/phases/1/duration") == "phases[1].duration");
  CHECK(human_path("/traffic/routes/0/headers/Content-Type") ==
        "traffic.routes[0].headers[\"Content-Type\"]");
  CHECK(human_path(pointer_append("/a", "x/y~z")) == "a[\"x/y~z\"]");
  CHECK(pointer_last(pointer_append("/a", "x/y~z")) == "x/y~z");
  CHECK(pointer_parent("/a/b/0") == "/a/b");
}

TEST_CASE("format_diagnostic shows the line with a caret under the column and the hint") {
  Diagnostic d;
  d.loc = SourceLoc{"specs/x.yaml", 14, 15};
  d.path = "phases[1].duration";
  d.message = "expected a duration like \"30s\", got \"30 sec\"";
  d.hint = "e.g. 30s";
  d.source_line = "    duration: 30 sec";
  d.length = 6;
  CHECK(format_diagnostic(d, false) ==
        "specs/x.yaml:14:15: error: phases[1].duration: expected a duration like \"30s\", got "
        "\"30 sec\"\n"
        " 14 |     duration: 30 sec\n"
        "    |               ^~~~~~\n"
        "  hint: e.g. 30s");
  d.source_line.clear();
  d.hint.clear();
  d.severity = "warning";
  d.path.clear();
  CHECK(format_diagnostic(d, false) ==
        "specs/x.yaml:14:15: warning: expected a duration like \"30s\", got \"30 sec\"");
  const std::string colored = format_diagnostic(d, true);
  CHECK(colored.find("\033[") != std::string::npos);
}

TEST_CASE("diagnostics as JSON for tools") {
  Diagnostic d;
  d.loc = SourceLoc{"a.yaml", 2, 3};
  d.path = "name";
  d.message = "say \"hi\"";
  CHECK(diagnostics_to_json({d}) ==
        R"([{"file":"a.yaml","line":2,"column":3,"severity":"error","path":"name",)"
        R"("message":"say \"hi\"","hint":""}])");
  CHECK(diagnostics_to_json({}) == "[]");
}
