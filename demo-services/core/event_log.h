// One line per notable event on stderr, in logfmt, so the engine (which captures service logs)
// and a human can both grep them:
//
//   ts=2024-05-01T12:00:00.123Z role=api level=warn event=request_failed request_id=t-7 status=502
//
// Values containing spaces, quotes, '=' or control characters are quoted and escaped. Each
// line is one write(2), so lines from concurrent threads never interleave.
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace faultline::demo {

enum class LogLevel { kInfo, kWarn, kError };

struct LogField {
  std::string_view key;
  std::string value;
};

// Sets the role printed on every line (once, at start).
void set_log_role(std::string_view role);

void log_event(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});
// The same, for fields assembled at run time (optional fields, such as a trace id).
void log_event(LogLevel level, std::string_view event, std::span<const LogField> fields);

// The line log_event would write (without the trailing newline), for tests.
std::string format_log_line(std::string_view timestamp, std::string_view role, LogLevel level,
                            std::string_view event, std::span<const LogField> fields);
inline std::string format_log_line(std::string_view timestamp, std::string_view role,
                                   LogLevel level, std::string_view event,
                                   std::initializer_list<LogField> fields) {
  return format_log_line(timestamp, role, level, event,
                         std::span<const LogField>(fields.begin(), fields.size()));
}

}  // namespace faultline::demo
