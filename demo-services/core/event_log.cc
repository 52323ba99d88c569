#include "core/event_log.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace faultline::demo {

namespace {

std::string g_role = "demo";

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20)
      return true;
  return false;
}

void append_value(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
          out.append(buf);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string utc_timestamp() {
  // Logs are for people and grep; wall-clock time is right here (nothing plans on it).
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

void set_log_role(std::string_view role) {
  g_role = std::string(role);
}

std::string format_log_line(std::string_view timestamp, std::string_view role, LogLevel level,
                            std::string_view event, std::span<const LogField> fields) {
  std::string line;
  line.reserve(128);
  line.append("ts=").append(timestamp);
  line.append(" role=");
  append_value(line, role);
  line.append(" level=").append(level_name(level));
  line.append(" event=");
  append_value(line, event);
  for (const auto& f : fields) {
    line.push_back(' ');
    line.append(f.key).push_back('=');
    append_value(line, f.value);
  }
  return line;
}

void log_event(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  log_event(level, event, std::span<const LogField>(fields.begin(), fields.size()));
}

void log_event(LogLevel level, std::string_view event, std::span<const LogField> fields) {
  std::string line = format_log_line(utc_timestamp(), g_role, level, event, fields);
  line.push_back('\n');
  // One write per line: concurrent lines stay whole (stderr is unbuffered and may be a file).
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

}  // namespace faultline::demo
