#include "matrix/matrix.h"

#include <cctype>
#include <filesystem>
#include <set>

#include "common/file_io.h"
#include "common/rng.h"
#include "spec/diagnostic_sink.h"
#include "spec/json_fields.h"
#include "spec/schema_checker.h"
#include "spec/source_map.h"
#include "spec/yaml_reader.h"

namespace faultline::matrix {

const char* to_string(Expect e) {
  return e == Expect::kPass ? "pass" : "fail";
}

std::vector<std::string> Cell::run_argv() const {
  std::vector<std::string> argv = {"faultline", "run", spec_path};
  if (!env_path.empty()) argv.insert(argv.end(), {"--env", env_path});
  for (const auto& [name, value] : sets) argv.insert(argv.end(), {"--set", name + "=" + value});
  if (!rate.empty()) argv.insert(argv.end(), {"--qps", rate});
  if (seed) argv.insert(argv.end(), {"--seed", std::to_string(*seed)});
  return argv;
}

uint64_t derive_cell_seed(uint64_t matrix_seed, const std::string& coordinates,
                          const std::string& seed_label) {
  const std::string key = coordinates + "\n" + seed_label;
  return mix64(fnv1a64(key, mix64(matrix_seed))) >> 11;
}

namespace {

// One value of an axis, with the pointer it came from (for diagnostics).
struct EnvChoice {
  std::string name;  // "spec" when absent
  std::string path;  // empty: the spec's own
  bool shareable = false;
};

std::string stem(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

// `value` relative to the matrix file's folder, as a path from the working directory.
std::string resolve(const std::string& matrix_file, const std::string& value) {
  std::filesystem::path p(value);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (std::filesystem::path(matrix_file).parent_path() / p).lexically_normal().string();
}

std::string rate_text(const rapidjson::Value& v, const std::string& pointer, const SourceMap& map) {
  return scalar_text(v, pointer, map);
}

// Coordinates a selector can match, of a cell being built.
struct Coordinates {
  std::string scenario;
  std::string env;
  std::map<std::string, std::string> sets;
  std::string rate;
  std::string seed_label;
};

bool matches(const rapidjson::Value& selector, const std::string& pointer, const SourceMap& map,
             const Coordinates& c) {
  if (const auto* v = field(selector, "scenario");
      v && v->IsString() && v->GetString() != c.scenario)
    return false;
  if (const auto* v = field(selector, "env"); v && v->IsString() && v->GetString() != c.env)
    return false;
  if (const auto* v = field(selector, "rate");
      v && rate_text(*v, pointer_append(pointer, "rate"), map) != c.rate)
    return false;
  if (const auto* v = field(selector, "seed");
      v && scalar_text(*v, pointer_append(pointer, "seed"), map) != c.seed_label)
    return false;
  if (const auto* s = field(selector, "set"); s && s->IsObject()) {
    const std::string sp = pointer_append(pointer, "set");
    for (auto it = s->MemberBegin(); it != s->MemberEnd(); ++it) {
      const std::string name = it->name.GetString();
      auto found = c.sets.find(name);
      if (found == c.sets.end() ||
          found->second != scalar_text(it->value, pointer_append(sp, name), map))
        return false;
    }
  }
  return true;
}

// "latency-tail.local.LATENCY=500ms.q40" (the ID without its seed segment).
std::string coordinates_key(const Coordinates& c, bool with_rate) {
  std::string key = c.scenario + "." + c.env;
  for (const auto& [name, value] : c.sets) key += "." + name + "=" + value;
  if (with_rate && !c.rate.empty()) key += ".q" + c.rate;
  return key;
}

EnvChoice read_env(const rapidjson::Value& v, const std::string& matrix_file) {
  EnvChoice e;
  std::string file;
  if (v.IsString()) {
    file = v.GetString();
  } else if (const auto* f = field(v, "file"); f && f->IsString()) {
    file = f->GetString();
    if (const auto* s = field(v, "shareable"); s && s->IsBool()) e.shareable = s->GetBool();
  }
  e.name = stem(file);
  e.path = resolve(matrix_file, file);
  return e;
}

}  // namespace

MatrixLoad load_matrix_text(const std::string& text, const std::string& virtual_path) {
  MatrixLoad out;
  SourceMap map;
  DiagnosticSink sink(map, out.diagnostics);
  rapidjson::Document doc;
  if (!read_yaml_document(text, virtual_path, VariableLookup(), doc, map, sink)) return out;
  static const SchemaChecker checker(matrix_schema_json());
  checker.check(doc, sink);
  if (sink.error_count() > 0) return out;

  Matrix m;
  m.file = virtual_path;
  m.name = doc["name"].GetString();
  if (const auto* s = field(doc, "seed")) m.seed = s->GetUint64();
  const rapidjson::Value& axes = doc["axes"];

  // Axis values.
  std::vector<std::pair<std::string, std::string>> scenarios;  // name, path
  {
    std::map<std::string, std::string> seen;  // name -> pointer
    const auto& list = axes["scenario"];
    for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
      const std::string p = pointer_append("/axes/scenario", i);
      const std::string name = stem(list[i].GetString());
      if (seen.count(name)) {
        sink.error(p, "scenario \"" + name + "\" is already on this axis",
                   "each scenario file appears once; use the seed axis for repeats");
      }
      seen[name] = p;
      scenarios.emplace_back(name, resolve(virtual_path, list[i].GetString()));
    }
  }
  std::vector<EnvChoice> envs;
  if (const auto* list = field(axes, "env")) {
    for (const auto& v : list->GetArray()) envs.push_back(read_env(v, virtual_path));
  } else {
    envs.push_back({"spec", "", false});
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> set_axes;
  if (const auto* s = field(axes, "set")) {
    for (auto it = s->MemberBegin(); it != s->MemberEnd(); ++it) {
      const std::string name = it->name.GetString();
      const std::string p = pointer_append("/axes/set", name);
      std::vector<std::string> values;
      for (rapidjson::SizeType i = 0; i < it->value.Size(); ++i)
        values.push_back(scalar_text(it->value[i], pointer_append(p, i), map));
      set_axes.emplace_back(name, values);
    }
  }
  std::vector<std::string> rates;
  if (const auto* list = field(axes, "rate")) {
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i)
      rates.push_back(rate_text((*list)[i], pointer_append("/axes/rate", i), map));
  } else {
    rates.push_back("");
  }
  const bool rate_axis = field(axes, "rate") != nullptr;
  std::vector<std::string> seeds;
  if (const auto* list = field(axes, "seed")) {
    for (rapidjson::SizeType i = 0; i < list->Size(); ++i)
      seeds.push_back(scalar_text((*list)[i], pointer_append("/axes/seed", i), map));
  } else {
    seeds.push_back("1");
  }

  // Variable names (the schema cannot say it: its pattern keywords need a regex engine that
  // RapidJSON's reference validator lacks for property names).
  auto check_names = [&](const rapidjson::Value* sets, const std::string& pointer) {
    if (!sets || !sets->IsObject()) return;
    for (auto it = sets->MemberBegin(); it != sets->MemberEnd(); ++it) {
      const std::string name = it->name.GetString();
      bool ok = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
      for (char ch : name) ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_');
      if (!ok) {
        sink.error(pointer_append(pointer, name), "\"" + name + "\" is not a variable name",
                   "names of ${NAME} variables are letters, digits and _, not starting with a "
                   "digit",
                   DiagnosticSink::Anchor::kKey);
      }
    }
  };
  check_names(field(axes, "set"), "/axes/set");
  if (const auto* include = field(doc, "include"))
    for (rapidjson::SizeType i = 0; i < include->Size(); ++i)
      check_names(field((*include)[i], "set"),
                  pointer_append(pointer_append("/include", i), "set"));

  const rapidjson::Value* exclude = field(doc, "exclude");
  const rapidjson::Value* expect = field(doc, "expect");

  auto expect_of = [&](const Coordinates& c) {
    Expect e = Expect::kPass;
    if (!expect) return e;
    if (expect->IsString()) return std::string(expect->GetString()) == "fail" ? Expect::kFail : e;
    for (rapidjson::SizeType i = 0; i < expect->Size(); ++i) {
      const std::string p = pointer_append(pointer_append("/expect", i), "when");
      if (matches((*expect)[i]["when"], p, map, c))
        e = std::string((*expect)[i]["expect"].GetString()) == "fail" ? Expect::kFail
                                                                      : Expect::kPass;
    }
    return e;
  };

  auto make_cell = [&](const Coordinates& c, const std::string& spec_path, const EnvChoice& env) {
    Cell cell;
    const std::string key = coordinates_key(c, rate_axis);
    cell.id = key + ".s" + c.seed_label;
    cell.scenario = c.scenario;
    cell.spec_path = spec_path;
    cell.env = env.name;
    cell.env_path = env.path;
    cell.env_shareable = env.shareable;
    cell.sets = c.sets;
    cell.rate = c.rate;
    cell.seed_label = c.seed_label;
    if (c.seed_label != "spec") cell.seed = derive_cell_seed(m.seed, key, c.seed_label);
    cell.expect = expect_of(c);
    return cell;
  };

  // The product: scenario, env, each set variable (in file order), rate, seed.
  std::vector<size_t> index;
  std::vector<size_t> size = {scenarios.size(), envs.size()};
  for (const auto& [name, values] : set_axes) size.push_back(values.size());
  size.push_back(rates.size());
  size.push_back(seeds.size());
  index.assign(size.size(), 0);
  std::set<std::string> ids;
  while (true) {
    Coordinates c;
    c.scenario = scenarios[index[0]].first;
    const EnvChoice& env = envs[index[1]];
    c.env = env.name;
    for (size_t k = 0; k < set_axes.size(); ++k)
      c.sets[set_axes[k].first] = set_axes[k].second[index[2 + k]];
    c.rate = rates[index[2 + set_axes.size()]];
    c.seed_label = seeds[index[3 + set_axes.size()]];
    bool excluded = false;
    if (exclude) {
      for (rapidjson::SizeType i = 0; i < exclude->Size() && !excluded; ++i)
        excluded = matches((*exclude)[i], pointer_append("/exclude", i), map, c);
    }
    if (!excluded) {
      Cell cell = make_cell(c, scenarios[index[0]].second, env);
      if (!ids.insert(cell.id).second) {
        // Two axis values with one name (envs/a/local.yaml and envs/b/local.yaml, 1 and 1),
        // unless a more precise error (a repeated scenario) already said so.
        if (sink.error_count() == 0)
          sink.error("/axes", "two cells would have the ID " + cell.id,
                     "values on an axis need distinct names (file names without .yaml)",
                     DiagnosticSink::Anchor::kKey);
      } else {
        m.cells.push_back(std::move(cell));
      }
    }
    // Next combination, odometer style: the last axis turns fastest.
    size_t k = size.size();
    bool done = false;
    while (true) {
      if (k == 0) {
        done = true;
        break;
      }
      --k;
      if (++index[k] < size[k]) break;
      index[k] = 0;
    }
    if (done) break;
  }

  if (const auto* include = field(doc, "include")) {
    for (rapidjson::SizeType i = 0; i < include->Size(); ++i) {
      const rapidjson::Value& e = (*include)[i];
      const std::string p = pointer_append("/include", i);
      Coordinates c;
      const std::string spec_path = resolve(virtual_path, e["scenario"].GetString());
      c.scenario = stem(e["scenario"].GetString());
      EnvChoice env = envs.front();
      if (const auto* v = field(e, "env")) env = read_env(*v, virtual_path);
      c.env = env.name;
      if (const auto* s = field(e, "set")) {
        for (auto it = s->MemberBegin(); it != s->MemberEnd(); ++it)
          c.sets[it->name.GetString()] = scalar_text(
              it->value, pointer_append(pointer_append(p, "set"), it->name.GetString()), map);
      }
      c.rate = rates.front();
      if (const auto* v = field(e, "rate")) c.rate = rate_text(*v, pointer_append(p, "rate"), map);
      c.seed_label = seeds.front();
      if (const auto* v = field(e, "seed"))
        c.seed_label = scalar_text(*v, pointer_append(p, "seed"), map);
      Cell cell = make_cell(c, spec_path, env);
      if (const auto* v = field(e, "expect"))
        cell.expect = std::string(v->GetString()) == "fail" ? Expect::kFail : Expect::kPass;
      if (ids.count(cell.id)) {
        for (auto& existing : m.cells) {
          if (existing.id != cell.id) continue;
          if (existing.spec_path != cell.spec_path) {
            sink.error(
                pointer_append(p, "scenario"),
                "cell " + cell.id + " already exists with scenario file " + existing.spec_path,
                "two scenario files with the same name cannot be in one matrix");
          }
          existing.expect = cell.expect;
        }
      } else {
        ids.insert(cell.id);
        m.cells.push_back(std::move(cell));
      }
    }
  }
  if (m.cells.empty()) {
    sink.error("/axes", "the matrix has no cells (exclude removes all of them)",
               "loosen exclude or add include entries");
  }
  if (sink.error_count() > 0) return out;
  out.matrix = std::move(m);
  return out;
}

MatrixLoad load_matrix(const std::string& path) {
  auto text = read_whole_file(path);
  if (!text) {
    MatrixLoad out;
    Diagnostic d;
    d.loc.file = path;
    d.message = "cannot read the matrix file";
    out.diagnostics.push_back(d);
    return out;
  }
  return load_matrix_text(*text, path);
}

}  // namespace faultline::matrix
