#include "spec/schema_checker.h"

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include <re2/re2.h>

#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/text.h"
#include "spec/embedded_schemas.h"

namespace faultline {

namespace {

using rapidjson::Value;
using Anchor = DiagnosticSink::Anchor;

struct Problem {
  std::string pointer;  // where to point
  std::string subject;  // what it is about (dedupe identity); empty: same as pointer
  std::string message;
  std::string hint;
  Anchor anchor = Anchor::kAuto;
};

const Value* member(const Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  const auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string text_of(const Value* v) {
  return v != nullptr && v->IsString() ? std::string(v->GetString(), v->GetStringLength())
                                       : std::string();
}

std::string number_text(const Value& v) {
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return sb.GetString();
}

std::string describe(const Value& v) {
  if (v.IsString()) {
    std::string s(v.GetString(), v.GetStringLength());
    if (s.size() > 40) s = s.substr(0, 37) + "...";
    return "\"" + s + "\"";
  }
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNumber()) return number_text(v);
  if (v.IsNull()) return "nothing";
  if (v.IsObject()) return "a mapping";
  return "a list";
}

std::string type_words(std::string_view type) {
  if (type == "string") return "text";
  if (type == "integer") return "a whole number";
  if (type == "number") return "a number";
  if (type == "boolean") return "true or false";
  if (type == "object") return "a mapping";
  if (type == "array") return "a list";
  if (type == "null") return "nothing";
  return std::string(type);
}

bool type_matches(std::string_view type, const Value& v) {
  if (type == "string") return v.IsString();
  if (type == "integer") return v.IsInt64() || v.IsUint64();
  if (type == "number") return v.IsNumber();
  if (type == "boolean") return v.IsBool();
  if (type == "object") return v.IsObject();
  if (type == "array") return v.IsArray();
  if (type == "null") return v.IsNull();
  return false;
}

std::vector<std::string> types_of(const Value& schema) {
  std::vector<std::string> out;
  const Value* t = member(schema, "type");
  if (t == nullptr) return out;
  if (t->IsString()) {
    out.push_back(text_of(t));
  } else if (t->IsArray()) {
    for (const auto& e : t->GetArray()) out.push_back(text_of(&e));
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, const std::string& last_sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += i + 1 == parts.size() ? last_sep : ", ";
    out += parts[i];
  }
  return out;
}

bool scalar_equal(const Value& a, const Value& b) {
  if (a.IsString() && b.IsString()) {
    return std::string_view(a.GetString(), a.GetStringLength()) ==
           std::string_view(b.GetString(), b.GetStringLength());
  }
  if (a.IsNumber() && b.IsNumber()) {
    if ((a.IsInt64() || a.IsUint64()) && (b.IsInt64() || b.IsUint64())) {
      if (a.IsUint64() && b.IsUint64()) return a.GetUint64() == b.GetUint64();
      if (a.IsInt64() && b.IsInt64()) return a.GetInt64() == b.GetInt64();
      return false;
    }
    return a.GetDouble() == b.GetDouble();
  }
  if (a.IsBool() && b.IsBool()) return a.GetBool() == b.GetBool();
  return a.IsNull() && b.IsNull();
}

bool is_required_only(const Value& schema) {
  return schema.IsObject() && schema.MemberCount() == 1 && member(schema, "required") != nullptr;
}

std::vector<std::string> strings_of(const Value* array) {
  std::vector<std::string> out;
  if (array != nullptr && array->IsArray()) {
    for (const auto& e : array->GetArray()) {
      if (e.IsString()) out.push_back(text_of(&e));
    }
  }
  return out;
}

// The schemas' `pattern` and patternProperties regexes, compiled once by their text. JSON
// Schema patterns are ECMAScript regexes; ours use only the part RE2 reads the same way
// (classes, groups, alternation, repetition, \s \. \( escapes), and RE2 matches them in linear
// time, so a 30k-character name or choice([...]) is checked without deep recursion.
using Patterns = std::map<std::string, std::unique_ptr<const RE2>, std::less<>>;

void collect_pattern(const std::string& p, Patterns& out) {
  if (out.count(p) != 0) return;
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<const RE2>(p, options);
  if (!re->ok()) {
    throw std::logic_error("schema: pattern " + p + " does not compile: " + re->error());
  }
  out.emplace(p, std::move(re));
}

void collect_patterns(const Value& v, Patterns& out) {
  if (v.IsObject()) {
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
      const std::string_view key(m->name.GetString(), m->name.GetStringLength());
      if (key == "pattern" && m->value.IsString()) {
        collect_pattern(text_of(&m->value), out);
      } else if (key == "patternProperties" && m->value.IsObject()) {
        for (auto pp = m->value.MemberBegin(); pp != m->value.MemberEnd(); ++pp) {
          collect_pattern(text_of(&pp->name), out);
          collect_patterns(pp->value, out);
        }
      } else {
        collect_patterns(m->value, out);
      }
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) collect_patterns(e, out);
  }
}

// JSON Schema's `pattern` is unanchored: it holds when the regex matches anywhere in the text.
// REQUIRES: `pattern` was collected (every pattern of the schema is, at construction).
bool pattern_matches(const Patterns& patterns, const std::string& pattern, std::string_view text) {
  const auto it = patterns.find(pattern);
  if (it == patterns.end()) throw std::logic_error("schema: pattern " + pattern + " not compiled");
  return RE2::PartialMatch(text, *it->second);
}

}  // namespace

struct SchemaChecker::Impl {
  explicit Impl(const rapidjson::Document& schema) : root(schema), reference(schema) {
    collect_patterns(schema, patterns);
  }

  const Value& resolve(const Value& schema) const;
  std::string expected(const Value& schema) const;
  void walk(const Value& schema_in, const Value& value, const std::string& pointer,
            std::vector<Problem>& out) const;
  void walk_object(const Value& s, const Value& value, const std::string& pointer,
                   std::vector<Problem>& out) const;
  void walk_alternatives(const Value& s, const Value& value, const std::string& pointer,
                         std::vector<Problem>& out) const;

  const rapidjson::Document& root;
  rapidjson::SchemaDocument reference;
  Patterns patterns;
};

const Value& SchemaChecker::Impl::resolve(const Value& schema) const {
  const Value* s = &schema;
  for (int hops = 0; hops < 16; ++hops) {
    const Value* ref = member(*s, "$ref");
    if (ref == nullptr || !ref->IsString()) return *s;
    const std::string r = text_of(ref);
    if (r.rfind("#/", 0) != 0) return *s;
    const Value* target = rapidjson::Pointer(r.substr(1).c_str()).Get(root);
    if (target == nullptr) throw std::logic_error("schema: unresolvable $ref " + r);
    s = target;
  }
  return *s;
}

std::string SchemaChecker::Impl::expected(const Value& schema) const {
  const Value& s = resolve(schema);
  if (const Value* title = member(s, "title")) return text_of(title);
  std::vector<std::string> words;
  for (const auto& t : types_of(s)) words.push_back(type_words(t));
  if (!words.empty()) return join(words, " or ");
  std::vector<std::string> alternatives;
  for (const char* key : {"anyOf", "oneOf"}) {
    if (const Value* alts = member(s, key)) {
      for (const auto& a : alts->GetArray()) alternatives.push_back(expected(a));
    }
  }
  return alternatives.empty() ? "a valid value" : join(alternatives, " or ");
}

void SchemaChecker::Impl::walk(const Value& schema_in, const Value& value,
                               const std::string& pointer, std::vector<Problem>& out) const {
  const Value& s = resolve(schema_in);
  const std::string hint = text_of(member(s, "description"));

  const std::vector<std::string> types = types_of(s);
  if (!types.empty()) {
    bool ok = false;
    for (const auto& t : types) ok = ok || type_matches(t, value);
    if (!ok) {
      std::string h = hint;
      const bool wants_text = std::find(types.begin(), types.end(), "string") != types.end();
      if (wants_text && (value.IsNumber() || value.IsBool())) {
        const Value* pattern = member(s, "pattern");
        const std::string as_text = describe(value);
        if (pattern == nullptr || pattern_matches(patterns, text_of(pattern), as_text)) {
          h = "quote it to make it text: \"" + as_text + "\"";
        } else if (value.IsNumber() && pattern_matches(patterns, text_of(pattern), as_text + "s")) {
          h = "add a unit, e.g. \"" + as_text + "s\"";
        }
      }
      out.push_back({pointer, "", "expected " + expected(s) + ", got " + describe(value), h});
      return;
    }
  }

  if (const Value* e = member(s, "enum")) {
    bool found = false;
    std::vector<std::string> names;
    for (const auto& option : e->GetArray()) {
      found = found || scalar_equal(option, value);
      names.push_back(option.IsString() ? text_of(&option) : describe(option));
    }
    if (!found) {
      std::string h;
      if (value.IsString()) {
        if (auto m = closest_match(text_of(&value), names)) h = "did you mean \"" + *m + "\"?";
      }
      out.push_back(
          {pointer, "",
           (names.size() == 1 ? "expected " + names[0] : "expected one of " + join(names, " or ")) +
               ", got " + describe(value),
           h});
      return;
    }
  }

  if (value.IsString()) {
    const std::string str = text_of(&value);
    const Value* min_length = member(s, "minLength");
    if (min_length != nullptr && min_length->IsUint64() && str.size() < min_length->GetUint64()) {
      out.push_back({pointer, "",
                     min_length->GetUint64() == 1
                         ? std::string("must not be empty")
                         : "expected at least " + number_text(*min_length) + " characters",
                     hint});
    } else if (const Value* pattern = member(s, "pattern")) {
      if (!pattern_matches(patterns, text_of(pattern), str)) {
        out.push_back({pointer, "", "expected " + expected(s) + ", got " + describe(value), hint});
      }
    }
  }

  if (value.IsNumber()) {
    const double v = value.GetDouble();
    const Value* min = member(s, "minimum");
    const Value* max = member(s, "maximum");
    const Value* emin = member(s, "exclusiveMinimum");
    const Value* emax = member(s, "exclusiveMaximum");
    const bool xmin = emin != nullptr && emin->IsBool() && emin->GetBool();
    const bool xmax = emax != nullptr && emax->IsBool() && emax->GetBool();
    std::string bound;
    if (min != nullptr && min->IsNumber() &&
        (xmin ? v <= min->GetDouble() : v < min->GetDouble())) {
      bound = (xmin ? "a number greater than " : "a number of at least ") + number_text(*min);
    } else if (max != nullptr && max->IsNumber() &&
               (xmax ? v >= max->GetDouble() : v > max->GetDouble())) {
      bound = (xmax ? "a number less than " : "a number of at most ") + number_text(*max);
    }
    if (!bound.empty()) {
      const Value* title = member(s, "title");
      out.push_back({pointer, "",
                     "expected " + (title ? text_of(title) : bound) + ", got " + describe(value),
                     hint});
    }
  }

  if (value.IsObject()) walk_object(s, value, pointer, out);

  if (value.IsArray()) {
    const Value* min_items = member(s, "minItems");
    if (min_items != nullptr && min_items->IsUint64() && value.Size() < min_items->GetUint64()) {
      out.push_back({pointer, "",
                     value.Size() == 0 ? std::string("must not be empty")
                                       : "expected at least " + number_text(*min_items) +
                                             " entries, got " + std::to_string(value.Size()),
                     hint});
    }
    if (const Value* items = member(s, "items")) {
      for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
        walk(*items, value[i], pointer_append(pointer, i), out);
      }
    }
  }

  walk_alternatives(s, value, pointer, out);
}

void SchemaChecker::Impl::walk_object(const Value& s, const Value& value,
                                      const std::string& pointer, std::vector<Problem>& out) const {
  const Value* properties = member(s, "properties");
  for (const auto& name : strings_of(member(s, "required"))) {
    if (value.HasMember(name.c_str())) continue;
    std::string h;
    if (const Value* p = properties ? member(*properties, name.c_str()) : nullptr) {
      h = text_of(member(*p, "description"));
      if (h.empty()) h = text_of(member(resolve(*p), "description"));
    }
    out.push_back({pointer, pointer_append(pointer, name),
                   "missing required field \"" + name + "\"", h, Anchor::kKey});
  }
  const Value* additional = member(s, "additionalProperties");
  std::vector<std::string> allowed;
  if (properties != nullptr) {
    for (auto m = properties->MemberBegin(); m != properties->MemberEnd(); ++m) {
      allowed.push_back(text_of(&m->name));
    }
  }
  for (auto m = value.MemberBegin(); m != value.MemberEnd(); ++m) {
    const std::string name = text_of(&m->name);
    const std::string child = pointer_append(pointer, name);
    const Value* by_pattern = nullptr;
    if (const Value* pp = member(s, "patternProperties"); pp && pp->IsObject()) {
      for (auto p = pp->MemberBegin(); p != pp->MemberEnd(); ++p) {
        if (pattern_matches(patterns, text_of(&p->name), name)) by_pattern = &p->value;
      }
    }
    if (const Value* p = properties ? member(*properties, name.c_str()) : nullptr) {
      walk(*p, m->value, child, out);
    } else if (by_pattern != nullptr) {
      walk(*by_pattern, m->value, child, out);
    } else if (additional != nullptr && additional->IsBool() && !additional->GetBool()) {
      std::string h;
      if (auto match = closest_match(name, allowed)) {
        h = "did you mean \"" + *match + "\"?";
      } else {
        h = "allowed here: " + join(allowed, ", ");
      }
      out.push_back({child, "", "unknown field \"" + name + "\"", h, Anchor::kKey});
    } else if (additional != nullptr && additional->IsObject()) {
      walk(*additional, m->value, child, out);
    }
  }
  if (const Value* negated = member(s, "not")) {
    if (is_required_only(*negated)) {
      const std::vector<std::string> names = strings_of(member(*negated, "required"));
      bool all = !names.empty();
      for (const auto& n : names) all = all && value.HasMember(n.c_str());
      if (all) {
        std::vector<std::string> quoted;
        for (const auto& n : names) quoted.push_back("\"" + n + "\"");
        out.push_back({pointer, "", join(quoted, " and ") + " cannot be used together",
                       "keep only one of them", Anchor::kKey});
      }
    } else {
      std::vector<Problem> sub;
      walk(*negated, value, pointer, sub);
      if (sub.empty()) out.push_back({pointer, "", "this combination is not allowed here", ""});
    }
  }
}

void SchemaChecker::Impl::walk_alternatives(const Value& s, const Value& value,
                                            const std::string& pointer,
                                            std::vector<Problem>& out) const {
  for (const char* keyword : {"anyOf", "oneOf"}) {
    const Value* alts = member(s, keyword);
    if (alts == nullptr || !alts->IsArray() || alts->Empty()) continue;
    const bool one_of = std::string_view(keyword) == "oneOf";
    std::vector<std::vector<Problem>> results;
    bool required_only = true;
    size_t passing = 0;
    for (const auto& a : alts->GetArray()) {
      results.emplace_back();
      walk(a, value, pointer, results.back());
      if (results.back().empty()) ++passing;
      required_only = required_only && is_required_only(resolve(a));
    }
    std::vector<std::string> choices;
    if (required_only) {
      for (const auto& a : alts->GetArray()) {
        for (const auto& n : strings_of(member(resolve(a), "required"))) choices.push_back(n);
      }
    }
    if (passing == 1 || (passing > 1 && !one_of)) continue;
    if (passing > 1) {
      out.push_back({pointer, "",
                     required_only ? "set only one of " + join(choices, ", ")
                                   : "matches more than one of the allowed forms",
                     "", Anchor::kKey});
      continue;
    }
    if (required_only) {
      out.push_back({pointer, "", "needs one of " + join(choices, " or "), "", Anchor::kKey});
      continue;
    }
    std::vector<size_t> compatible;
    for (rapidjson::SizeType i = 0; i < alts->Size(); ++i) {
      const std::vector<std::string> t = types_of(resolve((*alts)[i]));
      bool ok = t.empty();
      for (const auto& type : t) ok = ok || type_matches(type, value);
      if (ok) compatible.push_back(i);
    }
    if (compatible.empty()) {
      std::vector<std::string> phrases;
      for (const auto& a : alts->GetArray()) phrases.push_back(expected(a));
      out.push_back({pointer, "", "expected " + join(phrases, " or ") + ", got " + describe(value),
                     text_of(member(s, "description"))});
      continue;
    }
    size_t best = compatible.front();
    for (size_t i : compatible) {
      if (results[i].size() < results[best].size()) best = i;
    }
    for (auto& p : results[best]) out.push_back(std::move(p));
  }
}

SchemaChecker::SchemaChecker(std::string_view schema_json) {
  schema_.Parse(schema_json.data(), schema_json.size());
  if (schema_.HasParseError()) {
    throw std::logic_error(std::string("schema is not valid JSON: ") +
                           rapidjson::GetParseError_En(schema_.GetParseError()));
  }
  impl_ = std::make_unique<Impl>(schema_);
}

SchemaChecker::~SchemaChecker() = default;

void SchemaChecker::check(const rapidjson::Value& doc, DiagnosticSink& sink) const {
  std::vector<Problem> problems;
  impl_->walk(schema_, doc, "", problems);
  for (const auto& p : problems) {
    sink.error_about(p.pointer, p.subject.empty() ? p.pointer : p.subject, p.message, p.hint,
                     p.anchor);
  }
  if (!problems.empty()) return;
  rapidjson::SchemaValidator validator(impl_->reference);
  if (doc.Accept(validator)) return;
  rapidjson::StringBuffer where;
  validator.GetInvalidDocumentPointer().Stringify(where);
  rapidjson::StringBuffer rule;
  validator.GetInvalidSchemaPointer().Stringify(rule);
  sink.error(where.GetString(),
             std::string("does not match the schema (rule ") + validator.GetInvalidSchemaKeyword() +
                 " at " + rule.GetString() + ")",
             "see docs/spec-reference.md");
}

bool SchemaChecker::reference_accepts(const rapidjson::Value& doc) const {
  rapidjson::SchemaValidator validator(impl_->reference);
  return doc.Accept(validator);
}

const SchemaChecker& scenario_schema_checker() {
  static const SchemaChecker checker(scenario_schema_json());
  return checker;
}

const SchemaChecker& environment_schema_checker() {
  static const SchemaChecker checker(environment_schema_json());
  return checker;
}

}  // namespace faultline
