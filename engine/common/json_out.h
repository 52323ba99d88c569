// JsonOut: the one way faultline writes JSON (artifacts, plans, comparisons). A RapidJSON
// writer with one call per member, so the code that writes a document reads top to bottom in
// the document's order. Numbers that are not finite are written as null (JSON has no NaN).
//
//   JsonOut j;                 // pretty, 2-space indent; JsonOut j(JsonOut::kCompact)
//   j.begin_object();
//   j.member("name", plan.name);
//   j.key("phases").begin_array(); ... j.end_array();
//   j.end_object();
//   std::string text = j.text();
#pragma once

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace faultline {

class JsonOut {
 public:
  enum Style { kPretty, kCompact };
  explicit JsonOut(Style style = kPretty) : style_(style), pretty_(buf_), compact_(buf_) {
    pretty_.SetIndent(' ', 2);
  }

  JsonOut& key(std::string_view k) {
    call([&](auto& w) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); });
    return *this;
  }
  void value(std::string_view s) {
    call([&](auto& w) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); });
  }
  void value(const std::string& s) { value(std::string_view(s)); }
  void value(const char* s) { value(std::string_view(s)); }
  void value(bool b) {
    call([&](auto& w) { w.Bool(b); });
  }
  void value(int64_t v) {
    call([&](auto& w) { w.Int64(v); });
  }
  void value(uint64_t v) {
    call([&](auto& w) { w.Uint64(v); });
  }
  void value(int v) {
    call([&](auto& w) { w.Int(v); });
  }
  void value(double v) {
    call([&](auto& w) {
      if (std::isfinite(v))
        w.Double(v);
      else
        w.Null();
    });
  }
  void value(const std::optional<double>& v) { value(v ? *v : NAN); }
  template <typename T>
  void member(std::string_view k, const T& v) {
    key(k).value(v);
  }
  // Writes `json` (a complete JSON value, e.g. an object) as it is.
  void raw(std::string_view json, rapidjson::Type type = rapidjson::kObjectType) {
    call([&](auto& w) { w.RawValue(json.data(), json.size(), type); });
  }
  void null() {
    call([](auto& w) { w.Null(); });
  }
  JsonOut& begin_object() {
    call([](auto& w) { w.StartObject(); });
    return *this;
  }
  void end_object() {
    call([](auto& w) { w.EndObject(); });
  }
  JsonOut& begin_array() {
    call([](auto& w) { w.StartArray(); });
    return *this;
  }
  void end_array() {
    call([](auto& w) { w.EndArray(); });
  }
  std::string text() const { return {buf_.GetString(), buf_.GetSize()}; }

 private:
  template <typename F>
  void call(F&& f) {
    if (style_ == kPretty)
      f(pretty_);
    else
      f(compact_);
  }

  Style style_;
  rapidjson::StringBuffer buf_;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> pretty_;
  rapidjson::Writer<rapidjson::StringBuffer> compact_;
};

}  // namespace faultline
