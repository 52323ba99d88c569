#include "spec/loader.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <utility>

#include <rapidjson/document.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>
#include <sstream>

#include "spec/diagnostic_sink.h"
#include "spec/environment_builder.h"
#include "spec/json_fields.h"
#include "spec/scenario_builder.h"
#include "spec/scenario_checks.h"
#include "spec/schema_checker.h"
#include "spec/source_map.h"
#include "spec/yaml_reader.h"

namespace faultline {

namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxExtendsDepth = 16;

// The keys of the first document's top-level mapping, from yaml-cpp's parser events: no node
// tree, no conversion, no source map, so telling an environment from a scenario (`validate`
// does it per file before loading it) costs a fraction of loading it. Invariant after
// HandleNextDocument: `exact` is false when the events cannot give the keys read_yaml_document
// would (a top-level key that is an alias or a merge key `<<`, whose keys come from elsewhere);
// the caller then reads the document in full.
class TopLevelKeys : public YAML::EventHandler {
 public:
  std::set<std::string> keys;
  bool exact = true;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override { leaf(""); }
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {
    if (depth_ == 1 && expect_key_) exact = false;
    leaf(nullptr);
  }
  void OnScalar(const YAML::Mark&, const std::string& tag, YAML::anchor_t,
                const std::string& value) override {
    if (depth_ == 1 && expect_key_ && tag == "?" && value == "<<") exact = false;
    leaf(value.c_str());
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    ++depth_;
  }
  void OnSequenceEnd() override { end(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    if (depth_ == 0) root_is_map_ = true;
    ++depth_;
  }
  void OnMapEnd() override { end(); }

 private:
  // A scalar, null or alias: at the root mapping's level it is a key or a value.
  void leaf(const char* key) {
    if (depth_ != 1 || !root_is_map_) return;
    if (expect_key_ && key) keys.insert(key);
    expect_key_ = !expect_key_;
  }
  // A mapping or list ended; one that was a key or value of the root mapping completes it (a
  // mapping or list as a key is no name: read_yaml_document skips it too).
  void end() {
    if (--depth_ == 1 && root_is_map_) expect_key_ = !expect_key_;
  }

  int depth_ = 0;
  bool root_is_map_ = false;
  bool expect_key_ = true;
};

std::optional<std::string> read_from_disk(const std::string& path, std::string& error) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) out.append(buf, n);
  if (std::ferror(f.get())) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  return out;
}

// Everything one load needs: the options with defaults filled in.
struct Context {
  explicit Context(const LoadOptions& o) : options(o) {
    read = o.read_file ? o.read_file : FileReader(&read_from_disk);
    lookup = [this](const std::string& name) -> std::optional<std::string> {
      const auto it = options.variables.find(name);
      if (it != options.variables.end()) return it->second;
      if (options.process_env) return options.process_env(name);
      const char* v = std::getenv(name.c_str());
      return v ? std::optional<std::string>(v) : std::nullopt;
    };
  }
  const LoadOptions& options;
  FileReader read;
  VariableLookup lookup;
};

// A file loaded into a DOM, with `extends` resolved.
struct LoadedDocument {
  rapidjson::Document doc;
  SourceMap map;
  std::set<std::string> reported;  // pointers with errors already
  bool extends_failed = false;     // a base could not be loaded: the rest cannot be judged
};

std::string relative_to(const std::string& file, const std::string& target) {
  const fs::path t(target);
  if (t.is_absolute()) return t.lexically_normal().string();
  return (fs::path(file).parent_path() / t).lexically_normal().string();
}

std::string identity(const std::string& path) {
  std::error_code ec;
  const fs::path abs = fs::absolute(path, ec);
  return (ec ? fs::path(path) : abs).lexically_normal().string();
}

// Child wins: mappings merge key by key, anything else (lists included) is replaced.
void deep_merge(rapidjson::Value& base, const rapidjson::Value& child,
                rapidjson::Document::AllocatorType& alloc) {
  if (!base.IsObject() || !child.IsObject()) {
    base.CopyFrom(child, alloc);
    return;
  }
  for (auto m = child.MemberBegin(); m != child.MemberEnd(); ++m) {
    if (base.HasMember(m->name)) {
      deep_merge(base[m->name], m->value, alloc);
    } else {
      base.AddMember(rapidjson::Value(m->name, alloc), rapidjson::Value(m->value, alloc), alloc);
    }
  }
}

// The files being loaded, outermost first: (identity for cycle detection, path as written).
using ExtendsChain = std::vector<std::pair<std::string, std::string>>;

void load_document(const std::string& text, const std::string& path, ExtendsChain& chain,
                   Context& ctx, std::vector<Diagnostic>& diagnostics, LoadedDocument& out) {
  DiagnosticSink sink(out.map, diagnostics);
  if (!read_yaml_document(text, path, ctx.lookup, out.doc, out.map, sink)) {
    out.reported = sink.reported();
    out.reported.insert("");
    return;
  }
  const rapidjson::Value* extends = field(out.doc, "extends");
  const auto base_name = string_value(extends);
  if (base_name) {
    const std::string base_path = relative_to(path, *base_name);
    const std::string base_id = identity(base_path);
    const auto seen = std::find_if(chain.begin(), chain.end(),
                                   [&](const auto& link) { return link.first == base_id; });
    if (seen != chain.end()) {
      std::string cycle;
      for (auto it = seen; it != chain.end(); ++it) cycle += it->second + " -> ";
      sink.error("/extends", "extends cycle: " + cycle + base_path,
                 "a scenario cannot extend itself, directly or through others");
      out.extends_failed = true;
    } else if (chain.size() >= kMaxExtendsDepth) {
      sink.error("/extends",
                 "more than " + std::to_string(kMaxExtendsDepth) + " files extend one another",
                 "shorten the extends chain");
      out.extends_failed = true;
    } else {
      std::string error;
      const auto base_text = ctx.read(base_path, error);
      if (!base_text) {
        sink.error("/extends", "cannot read " + base_path + ": " + error,
                   "extends is relative to this file's directory");
        out.extends_failed = true;
      } else {
        LoadedDocument base;
        chain.emplace_back(base_id, base_path);
        load_document(*base_text, base_path, chain, ctx, diagnostics, base);
        chain.pop_back();
        out.extends_failed = base.extends_failed || base.doc.IsNull();
        if (base.doc.IsObject() && out.doc.IsObject()) {
          deep_merge(base.doc, out.doc, base.doc.GetAllocator());
          out.doc.Swap(base.doc);
          out.map.merge_missing(base.map);
          sink.mark_reported(base.reported);
        }
      }
    }
    out.doc.RemoveMember("extends");
  }
  // Top-level x-* keys only hold YAML anchors for the rest of the file. They are dropped here,
  // before the schema check (RapidJSON 1.1 mis-validates patternProperties next to
  // additionalProperties: false).
  if (out.doc.IsObject()) {
    std::vector<std::string> anchors_only;
    const rapidjson::Value& root = out.doc;
    for (auto m = root.MemberBegin(); m != root.MemberEnd(); ++m) {
      const std::string name(m->name.GetString(), m->name.GetStringLength());
      if (name.starts_with("x-")) anchors_only.push_back(name);
    }
    for (const auto& name : anchors_only) {
      out.doc.RemoveMember(rapidjson::StringRef(name.data(), name.size()));
    }
  }
  out.reported = sink.reported();
}

void sort_diagnostics(std::vector<Diagnostic>& diagnostics, const std::string& first_file) {
  std::stable_sort(diagnostics.begin(), diagnostics.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) {
                     const bool a_first = a.loc.file == first_file;
                     const bool b_first = b.loc.file == first_file;
                     if (a_first != b_first) return a_first;
                     if (a.loc.file != b.loc.file) return a.loc.file < b.loc.file;
                     if (a.loc.line != b.loc.line) return a.loc.line < b.loc.line;
                     return a.loc.column < b.loc.column;
                   });
}

bool report_if_empty(const rapidjson::Value& doc, const std::string& what, DiagnosticSink& sink) {
  if (!doc.IsNull()) return false;
  sink.error("", "the file is empty", "a " + what + " is a mapping; see docs/spec-reference.md");
  return true;
}

std::optional<Environment> load_environment_into(const std::string& text, const std::string& path,
                                                 Context& ctx,
                                                 std::vector<Diagnostic>& diagnostics) {
  const size_t errors_before = count_severity(diagnostics, "error");
  LoadedDocument loaded;
  ExtendsChain chain{{identity(path), path}};
  load_document(text, path, chain, ctx, diagnostics, loaded);
  DiagnosticSink sink(loaded.map, diagnostics);
  sink.mark_reported(loaded.reported);
  if ((loaded.reported.count("") > 0 && loaded.doc.IsNull()) || loaded.extends_failed) {
    return std::nullopt;
  }
  if (report_if_empty(loaded.doc, "environment file", sink)) return std::nullopt;
  environment_schema_checker().check(loaded.doc, sink);
  Environment env = build_environment(loaded.doc, path, sink);
  if (count_severity(diagnostics, "error") > errors_before) return std::nullopt;
  return env;
}

// Reads `path` and loads its text with `from_text`, or says why it cannot be read.
template <typename Load>
Load load_file(const std::string& path, const LoadOptions& options,
               Load (*from_text)(const std::string&, const std::string&, const LoadOptions&)) {
  Context ctx(options);
  std::string error;
  if (const auto text = ctx.read(path, error)) return from_text(*text, path, options);
  Load out;
  Diagnostic d;
  d.loc.file = path;
  d.message = "cannot read " + path + ": " + error;
  out.diagnostics.push_back(std::move(d));
  return out;
}

}  // namespace

ScenarioLoad load_scenario_text(const std::string& text, const std::string& virtual_path,
                                const LoadOptions& options) {
  Context ctx(options);
  ScenarioLoad out;
  ExtendsChain chain{{identity(virtual_path), virtual_path}};
  LoadedDocument loaded;
  load_document(text, virtual_path, chain, ctx, out.diagnostics, loaded);
  DiagnosticSink sink(loaded.map, out.diagnostics);
  sink.mark_reported(loaded.reported);
  if ((loaded.reported.count("") > 0 && loaded.doc.IsNull()) || loaded.extends_failed) {
    sort_diagnostics(out.diagnostics, virtual_path);
    return out;  // not YAML, or its base is missing: nothing more can be judged
  }
  if (report_if_empty(loaded.doc, "scenario", sink)) {
    sort_diagnostics(out.diagnostics, virtual_path);
    return out;
  }
  scenario_schema_checker().check(loaded.doc, sink);

  // The environment: --env when given (the command line is the user's latest word: it is how
  // the same scenario runs before and after a fix), else the spec's own (relative to the file
  // that names it), else the default relative to the current directory.
  std::string env_path =
      options.environment_file.empty() ? kDefaultEnvironmentFile : options.environment_file;
  std::string env_pointer;
  const auto named = string_value(field(loaded.doc, "environment"));
  if (named && options.environment_file.empty()) {
    const SourceEntry* e = loaded.map.find("/environment");
    env_path = relative_to(e ? e->value.file : virtual_path, *named);
    env_pointer = "/environment";
  }
  std::optional<Environment> environment;
  std::string read_error;
  if (const auto env_text = ctx.read(env_path, read_error)) {
    environment = load_environment_into(*env_text, env_path, ctx, out.diagnostics);
  } else {
    const std::string message = "cannot read environment file " + env_path + ": " + read_error;
    if (!env_pointer.empty()) {
      sink.error(env_pointer, message, "environment is relative to this file's directory");
    } else {
      sink.error_at(SourceLoc{virtual_path, 0, 0}, message,
                    "run from the repository root, pass --env FILE, or set environment: in the "
                    "scenario");
    }
  }

  ScenarioReferences refs;
  Scenario scenario = build_scenario(loaded.doc, sink, refs);
  scenario.source_path = virtual_path;
  scenario.environment = env_path;
  check_scenario(scenario, refs, environment ? &*environment : nullptr, env_path, sink);

  sort_diagnostics(out.diagnostics, virtual_path);
  if (!has_errors(out.diagnostics) && environment) {
    out.scenario = std::move(scenario);
    out.environment = std::move(environment);
  }
  return out;
}

ScenarioLoad load_scenario(const std::string& path, const LoadOptions& options) {
  return load_file<ScenarioLoad>(path, options, &load_scenario_text);
}

EnvironmentLoad load_environment_text(const std::string& text, const std::string& virtual_path,
                                      const LoadOptions& options) {
  Context ctx(options);
  EnvironmentLoad out;
  out.environment = load_environment_into(text, virtual_path, ctx, out.diagnostics);
  sort_diagnostics(out.diagnostics, virtual_path);
  if (has_errors(out.diagnostics)) out.environment.reset();
  return out;
}

bool looks_like_environment_file(const std::string& path, const LoadOptions& options) {
  Context ctx(options);
  std::string error;
  const auto text = ctx.read(path, error);
  if (!text) return false;
  // A key reads "services" only if the text spells it, or a double-quoted escape (\x73...)
  // does: without either, no parse can find it (keys are not ${VAR}-substituted). Scenarios
  // rarely mention services, so validate usually skips even the event parse below.
  if (text->find("services") == std::string::npos && text->find('\\') == std::string::npos)
    return false;
  {
    std::istringstream in(*text);
    TopLevelKeys top;
    bool parsed = false;
    try {
      YAML::Parser parser(in);
      parsed = parser.HandleNextDocument(top);
    } catch (const YAML::Exception&) {
      parsed = false;  // read in full below: it decides as it always did
    }
    if (parsed && top.exact) return top.keys.count("services") && !top.keys.count("phases");
  }
  rapidjson::Document doc;
  SourceMap map;
  std::vector<Diagnostic> ignored;
  DiagnosticSink sink(map, ignored);
  if (!read_yaml_document(*text, path, VariableLookup(), doc, map, sink)) return false;
  return field(doc, "services") != nullptr && field(doc, "phases") == nullptr;
}

EnvironmentLoad load_environment(const std::string& path, const LoadOptions& options) {
  return load_file<EnvironmentLoad>(path, options, &load_environment_text);
}

}  // namespace faultline
