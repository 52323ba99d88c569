#include "spec/diagnostic.h"

#include <algorithm>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace faultline {

namespace {

constexpr const char* kBold = "\033[1m";
constexpr const char* kRed = "\033[1;31m";
constexpr const char* kMagenta = "\033[1;35m";
constexpr const char* kGreen = "\033[1;32m";
constexpr const char* kCyan = "\033[1;36m";
constexpr const char* kReset = "\033[0m";

}  // namespace

std::string format_diagnostic(const Diagnostic& d, bool color) {
  auto paint = [color](const char* code, const std::string& s) {
    return color ? std::string(code) + s + kReset : s;
  };
  std::string out = paint(kBold, d.loc.str() + ":") + " ";
  out += d.is_error() ? paint(kRed, "error:") : paint(kMagenta, d.severity + ":");
  out += " ";
  if (!d.path.empty()) out += d.path + ": ";
  out += d.message;
  if (d.loc.line > 0 && d.loc.column > 0 && !d.source_line.empty()) {
    const std::string number = std::to_string(d.loc.line);
    const std::string gutter(number.size() + 2, ' ');
    out += "\n " + number + " | " + d.source_line;
    // The caret column counts bytes; tabs in the prefix are kept so the caret lines up.
    std::string pad;
    for (int i = 0; i + 1 < d.loc.column && i < static_cast<int>(d.source_line.size()); ++i) {
      pad.push_back(d.source_line[i] == '\t' ? '\t' : ' ');
    }
    const int available = static_cast<int>(d.source_line.size()) - (d.loc.column - 1);
    const int span = std::max(1, std::min(d.length, std::max(1, available)));
    out += "\n" + gutter + "| " + pad + paint(kGreen, "^" + std::string(span - 1, '~'));
  }
  if (!d.hint.empty()) out += "\n  " + paint(kCyan, "hint:") + " " + d.hint;
  return out;
}

std::string diagnostics_to_json(const std::vector<Diagnostic>& diagnostics) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartArray();
  for (const auto& d : diagnostics) {
    w.StartObject();
    w.Key("file");
    w.String(d.loc.file);
    w.Key("line");
    w.Int(d.loc.line);
    w.Key("column");
    w.Int(d.loc.column);
    w.Key("severity");
    w.String(d.severity);
    w.Key("path");
    w.String(d.path);
    w.Key("message");
    w.String(d.message);
    w.Key("hint");
    w.String(d.hint);
    w.EndObject();
  }
  w.EndArray();
  return buffer.GetString();
}

bool has_errors(const std::vector<Diagnostic>& diagnostics) {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.is_error(); });
}

size_t count_severity(const std::vector<Diagnostic>& diagnostics, const std::string& severity) {
  return static_cast<size_t>(
      std::count_if(diagnostics.begin(), diagnostics.end(),
                    [&](const Diagnostic& d) { return d.severity == severity; }));
}

}  // namespace faultline
