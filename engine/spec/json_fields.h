// Reading typed fields out of a loaded (JSON DOM) spec, shared by the scenario and environment
// builders. The schema check has already reported values of the wrong type, so these readers
// quietly skip them; what they report is what only they can see (a duration that matches the
// pattern but is not whole microseconds, a reference to an unknown name).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "common/units.h"
#include "spec/diagnostic_sink.h"

namespace faultline {

// The member `name` of `object`, or nullptr when absent or `object` is not a mapping.
const rapidjson::Value* field(const rapidjson::Value& object, std::string_view name);

std::optional<std::string> string_value(const rapidjson::Value* v);

// A scalar as text: strings as they are, numbers as written in the file (the source map knows
// the original spelling of plain scalars: 1.50 stays "1.50"), booleans true/false.
std::string scalar_text(const rapidjson::Value& v, const std::string& pointer,
                        const SourceMap& map);

// Canonical compact JSON text of a value ("0.2", "1500", "true", "\"on\"").
std::string json_text(const rapidjson::Value& v);

// A duration field; reports (and returns nullopt) when it does not parse or is not > 0 while
// `positive` is asked for. Returns nullopt silently when absent or of the wrong type.
std::optional<Duration> read_duration(const rapidjson::Value* v, const std::string& pointer,
                                      DiagnosticSink& sink, bool positive);

// A rate field (number per second, or "50/s"); same conventions as read_duration.
std::optional<double> read_rate(const rapidjson::Value* v, const std::string& pointer,
                                DiagnosticSink& sink);

// "unknown <kind> "name"" with a did-you-mean hint, or the list of what exists.
void report_unknown_name(DiagnosticSink& sink, const std::string& pointer, const std::string& kind,
                         const std::string& name, const std::vector<std::string>& known,
                         const std::string& where);

// A name with the pointer that defined or mentioned it.
struct NamedAt {
  std::string name;
  std::string pointer;
};

// Reports the second and later definitions of a name ("duplicate phase name ...").
void report_duplicate_names(DiagnosticSink& sink, const std::vector<NamedAt>& names,
                            const std::string& kind);

// "12" for 12.0, "2.5" for 2.5: numbers in messages.
std::string number_words(double v);

}  // namespace faultline
