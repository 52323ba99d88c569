#include "observe/prometheus_api.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include "common/json_parse.h"

namespace faultline::observe {

namespace {

using rapidjson::Value;

std::string seconds_text(int64_t ms) {
  // Exact: integer seconds and three decimals, never a float rounding.
  char buf[48];
  const int64_t s = ms / 1000, frac = ms % 1000;
  if (ms < 0 && frac != 0)
    std::snprintf(buf, sizeof buf, "-%lld.%03lld", static_cast<long long>(-(ms / 1000)),
                  static_cast<long long>(-frac));
  else
    std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(s),
                  static_cast<long long>(frac));
  return buf;
}

[[noreturn]] void fail(const std::string& what) {
  throw PrometheusApiError(what);
}

int64_t read_time_ms(const Value& v, const char* where) {
  if (!v.IsNumber()) fail(std::string(where) + ": a time that is not a number");
  const double s = v.GetDouble();
  if (!std::isfinite(s) || std::fabs(s) > 9.2e15) fail(std::string(where) + ": time out of range");
  return std::llround(s * 1000.0);
}

double read_value(const Value& v, const char* where) {
  if (!v.IsString()) fail(std::string(where) + ": a sample value that is not a string");
  const std::string text(v.GetString(), v.GetStringLength());
  if (text == "NaN") return std::nan("");
  if (text == "+Inf" || text == "Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  double out = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size())
    fail(std::string(where) + ": \"" + text.substr(0, 40) + "\" is not a number");
  return out;
}

PromPoint read_point(const Value& v, const char* where) {
  if (!v.IsArray() || v.Size() != 2)
    fail(std::string(where) + ": a point is not [time, \"value\"]");
  return {read_time_ms(v[0], where), read_value(v[1], where)};
}

PromSeries read_series(const Value& item, bool matrix) {
  if (!item.IsObject()) fail("result: an entry that is not an object");
  PromSeries s;
  if (auto m = item.FindMember("metric"); m != item.MemberEnd()) {
    if (!m->value.IsObject()) fail("result: metric is not an object");
    for (auto l = m->value.MemberBegin(); l != m->value.MemberEnd(); ++l) {
      if (!l->value.IsString()) fail("result: a label value that is not a string");
      std::string name(l->name.GetString(), l->name.GetStringLength());
      std::string value(l->value.GetString(), l->value.GetStringLength());
      if (name == "__name__")
        s.name = std::move(value);
      else if (!value.empty())
        s.labels.push_back({std::move(name), std::move(value)});
    }
    std::sort(s.labels.begin(), s.labels.end(),
              [](const Label& a, const Label& b) { return a.name < b.name; });
  }
  if (matrix) {
    auto values = item.FindMember("values");
    if (values == item.MemberEnd() || !values->value.IsArray())
      fail("result: a matrix entry without values");
    for (const auto& p : values->value.GetArray()) s.points.push_back(read_point(p, "values"));
  } else {
    auto value = item.FindMember("value");
    if (value == item.MemberEnd()) fail("result: a vector entry without value");
    s.points.push_back(read_point(value->value, "value"));
  }
  return s;
}

// The family a sample name belongs to in `exposition_at`: the histogram family for
// x_bucket/x_sum/x_count when x is a histogram, else the name itself.
std::string family_of(const std::string& name, const std::set<std::string>& histograms) {
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      std::string base = name.substr(0, name.size() - suffix.size());
      if (histograms.count(base)) return base;
    }
  }
  return name;
}

void append_escaped(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

}  // namespace

std::string form_encode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string instant_query_form(std::string_view expr, int64_t time_ms) {
  return "query=" + form_encode(expr) + "&time=" + seconds_text(time_ms);
}

std::string range_query_form(std::string_view expr, int64_t start_ms, int64_t end_ms,
                             int64_t step_ms) {
  return "query=" + form_encode(expr) + "&start=" + seconds_text(start_ms) +
         "&end=" + seconds_text(end_ms) + "&step=" + seconds_text(step_ms);
}

PromAnswer parse_prometheus_answer(std::string_view body, long http_status) {
  rapidjson::Document doc;
  JsonParseError error;
  const bool parsed = parse_json(body, &doc, &error);
  const auto excerpt = [&] {
    std::string e;
    for (char c : body.substr(0, 160)) e += (c >= 0x20 && c < 0x7f) ? c : '?';
    return e;
  };
  if (!parsed || !doc.IsObject() || !doc.HasMember("status") || !doc["status"].IsString()) {
    fail("HTTP " + std::to_string(http_status) +
         ", not an answer of the Prometheus HTTP API: " + excerpt());
  }
  const std::string status = doc["status"].GetString();
  if (status != "success") {
    std::string what;
    if (auto t = doc.FindMember("errorType"); t != doc.MemberEnd() && t->value.IsString())
      what = std::string(t->value.GetString()) + ": ";
    if (auto e = doc.FindMember("error"); e != doc.MemberEnd() && e->value.IsString())
      what += e->value.GetString();
    if (what.empty()) what = "status " + status;
    fail(what);
  }
  PromAnswer out;
  if (auto w = doc.FindMember("warnings"); w != doc.MemberEnd() && w->value.IsArray())
    for (const auto& x : w->value.GetArray())
      if (x.IsString()) out.warnings.emplace_back(x.GetString(), x.GetStringLength());
  auto data = doc.FindMember("data");
  if (data == doc.MemberEnd() || !data->value.IsObject()) fail("a success answer without data");
  auto type = data->value.FindMember("resultType");
  auto result = data->value.FindMember("result");
  if (type == data->value.MemberEnd() || !type->value.IsString() ||
      result == data->value.MemberEnd())
    fail("data without resultType or result");
  out.result_type = type->value.GetString();
  const Value& r = result->value;
  if (out.result_type == "vector" || out.result_type == "matrix") {
    if (!r.IsArray()) fail("result of a " + out.result_type + " is not an array");
    out.series.reserve(r.Size());
    for (const auto& item : r.GetArray())
      out.series.push_back(read_series(item, out.result_type == "matrix"));
  } else if (out.result_type == "scalar") {
    PromSeries s;
    s.points.push_back(read_point(r, "scalar"));
    out.series.push_back(std::move(s));
  } else if (out.result_type != "string") {
    fail("unknown resultType \"" + out.result_type + "\"");
  }
  return out;
}

std::optional<int64_t> parse_rfc3339_ms(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  auto digits = [&](size_t at, size_t n) -> std::optional<int> {
    if (at + n > text.size()) return std::nullopt;
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  const auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2), hour = digits(11, 2),
             minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text.size() < 20 ||
      text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':')
    return std::nullopt;
  if (*year == 1) return 0;  // Go's zero time
  size_t at = 19;
  int64_t frac_ms = 0;
  if (at < text.size() && text[at] == '.') {
    int scale = 100;
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, scale /= 10)
      frac_ms += (text[at] - '0') * scale;
  }
  int64_t offset_min = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const auto oh = digits(at + 1, 2), om = digits(at + 4, 2);
    if (!oh || !om || at + 3 >= text.size() || text[at + 3] != ':') return std::nullopt;
    offset_min = (*oh * 60 + *om) * (text[at] == '-' ? -1 : 1);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != text.size() || *month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 ||
      *minute > 59 || *second > 60)
    return std::nullopt;
  // Days from the civil date (proleptic Gregorian), as in Howard Hinnant's days_from_civil.
  const int y = *year - (*month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int mp = (*month + 9) % 12;
  const int doy = (153 * mp + 2) / 5 + *day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + doe - 719468;
  const int64_t seconds = days * 86400 + *hour * 3600 + *minute * 60 + *second - offset_min * 60;
  return seconds * 1000 + frac_ms;
}

std::vector<PromAlertRule> parse_alerting_rules(std::string_view body, long http_status) {
  rapidjson::Document doc;
  if (!parse_json(body, &doc) || !doc.IsObject() || !doc.HasMember("status") ||
      !doc["status"].IsString())
    fail("HTTP " + std::to_string(http_status) + ", not an answer of the Prometheus rules API");
  if (std::string_view(doc["status"].GetString()) != "success") {
    std::string what = "rules API: status " + std::string(doc["status"].GetString());
    if (auto e = doc.FindMember("error"); e != doc.MemberEnd() && e->value.IsString())
      what += ": " + std::string(e->value.GetString());
    fail(what);
  }
  auto data = doc.FindMember("data");
  if (data == doc.MemberEnd() || !data->value.IsObject()) fail("rules API: no data");
  auto groups = data->value.FindMember("groups");
  if (groups == data->value.MemberEnd() || !groups->value.IsArray()) fail("rules API: no groups");
  std::vector<PromAlertRule> out;
  for (const auto& g : groups->value.GetArray()) {
    if (!g.IsObject()) fail("rules API: a group that is not an object");
    int64_t evaluated = 0;
    if (auto le = g.FindMember("lastEvaluation"); le != g.MemberEnd() && le->value.IsString()) {
      const auto t = parse_rfc3339_ms(le->value.GetString());
      if (!t)
        fail("rules API: lastEvaluation \"" + std::string(le->value.GetString()) +
             "\" is not an RFC 3339 time");
      evaluated = *t;
    }
    auto rules = g.FindMember("rules");
    if (rules == g.MemberEnd() || !rules->value.IsArray()) continue;
    for (const auto& r : rules->value.GetArray()) {
      if (!r.IsObject()) continue;
      auto type = r.FindMember("type");
      auto name = r.FindMember("name");
      if (type == r.MemberEnd() || !type->value.IsString() || name == r.MemberEnd() ||
          !name->value.IsString() || std::string_view(type->value.GetString()) != "alerting")
        continue;
      out.push_back({name->value.GetString(), evaluated});
    }
  }
  return out;
}

std::string prometheus_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  return std::string(buf, end);
}

std::string exposition_at(const std::vector<PromSeries>& series, int64_t t_ms) {
  std::set<std::string> histograms;
  for (const auto& s : series)
    if (s.name.size() > 7 && s.name.ends_with("_bucket") && !label_value(s.labels, "le").empty())
      histograms.insert(s.name.substr(0, s.name.size() - 7));
  // family -> lines, families in order of first appearance
  std::vector<std::string> order;
  std::map<std::string, std::string> lines;
  for (const auto& s : series) {
    if (s.name.empty()) continue;
    auto p = std::lower_bound(s.points.begin(), s.points.end(), t_ms,
                              [](const PromPoint& x, int64_t t) { return x.t_ms < t; });
    if (p == s.points.end() || p->t_ms != t_ms) continue;
    const std::string family = family_of(s.name, histograms);
    auto [it, added] = lines.try_emplace(family);
    if (added) {
      order.push_back(family);
      if (histograms.count(family)) it->second = "# TYPE " + family + " histogram\n";
    }
    std::string& out = it->second;
    out += s.name;
    if (!s.labels.empty()) {
      out += '{';
      for (size_t i = 0; i < s.labels.size(); ++i) {
        if (i) out += ',';
        out += s.labels[i].name;
        out += "=\"";
        append_escaped(out, s.labels[i].value);
        out += '"';
      }
      out += '}';
    }
    out += ' ';
    out += prometheus_number(p->value);
    out += '\n';
  }
  std::string text;
  for (const auto& f : order) text += lines[f];
  return text;
}

}  // namespace faultline::observe
