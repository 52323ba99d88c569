#include "spec/json_fields.h"

#include <cstdio>
#include <map>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/text.h"

namespace faultline {

const rapidjson::Value* field(const rapidjson::Value& object, std::string_view name) {
  if (!object.IsObject()) return nullptr;
  const auto it = object.FindMember(rapidjson::Value(
      rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size()))));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string> string_value(const rapidjson::Value* v) {
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

std::string json_text(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

std::string scalar_text(const rapidjson::Value& v, const std::string& pointer,
                        const SourceMap& map) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNumber()) {
    const SourceEntry* e = map.find(pointer);
    const std::string* text = e ? map.file_text(e->value.file) : nullptr;
    if (e != nullptr && text != nullptr && e->style == ScalarStyle::kPlain && !e->substituted &&
        e->value_offset + static_cast<size_t>(e->value_length) <= text->size()) {
      return text->substr(e->value_offset, static_cast<size_t>(e->value_length));
    }
    return json_text(v);
  }
  return std::string();
}

std::optional<Duration> read_duration(const rapidjson::Value* v, const std::string& pointer,
                                      DiagnosticSink& sink, bool positive) {
  if (v == nullptr || !v->IsString()) return std::nullopt;
  const std::string text(v->GetString(), v->GetStringLength());
  const std::optional<Duration> d = parse_duration(text);
  if (!d) {
    sink.error(pointer, "expected a duration like \"30s\", got \"" + text + "\"",
               "durations are numbers with units us, ms, s, m, h (250ms, 30s, 1m30s), "
               "in whole microseconds");
    return std::nullopt;
  }
  if (positive && d->count() <= 0) {
    sink.error(pointer, "must be longer than 0", "e.g. 30s");
    return std::nullopt;
  }
  return d;
}

std::optional<double> read_rate(const rapidjson::Value* v, const std::string& pointer,
                                DiagnosticSink& sink) {
  if (v == nullptr) return std::nullopt;
  if (v->IsNumber())
    return v->GetDouble() >= 0 ? std::optional<double>(v->GetDouble()) : std::nullopt;
  if (!v->IsString()) return std::nullopt;
  const std::string text(v->GetString(), v->GetStringLength());
  const std::optional<double> r = parse_rate(text);
  if (!r) {
    sink.error(pointer, "expected a rate like \"50/s\", got \"" + text + "\"",
               "rates are requests per second, minute or hour: 50/s, 3000/m, 100/h");
  }
  return r;
}

void report_unknown_name(DiagnosticSink& sink, const std::string& pointer, const std::string& kind,
                         const std::string& name, const std::vector<std::string>& known,
                         const std::string& where) {
  std::string hint;
  if (auto m = closest_match(name, known)) {
    hint = "did you mean \"" + *m + "\"?";
  } else if (known.empty()) {
    hint = "there are none in " + where;
  } else {
    hint = "defined in " + where + ": ";
    for (size_t i = 0; i < known.size(); ++i) hint += (i ? ", " : "") + known[i];
  }
  sink.error(pointer, "unknown " + kind + " \"" + name + "\"", hint);
}

void report_duplicate_names(DiagnosticSink& sink, const std::vector<NamedAt>& names,
                            const std::string& kind) {
  std::map<std::string, std::string> first;
  for (const auto& n : names) {
    const auto [it, inserted] = first.emplace(n.name, n.pointer);
    if (inserted) continue;
    const SourceEntry* e = sink.map().find(it->second);
    const std::string at = e ? " (first at line " + std::to_string(e->value.line) + ")" : "";
    sink.error(n.pointer, "duplicate " + kind + " name \"" + n.name + "\"" + at,
               "names must be unique so assertions and references are unambiguous");
  }
}

std::string number_words(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace faultline
