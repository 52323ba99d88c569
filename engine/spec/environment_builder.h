// Environment builder: the loaded, schema-checked JSON DOM of an environment file -> the typed
// Environment model, with its checks: command lines split into argv, placeholders naming known
// services and attributes, depends_on naming known services, no dependency cycles, URL hosts
// inside the allow list, allow entries that are addresses, CIDR blocks or host names.
#pragma once

#include <string>

#include <rapidjson/document.h>

#include "spec/diagnostic_sink.h"
#include "spec/environment.h"

namespace faultline {

// REQUIRES: `doc` passed through the schema check reporting to `sink`.
Environment build_environment(const rapidjson::Value& doc, const std::string& source_path,
                              DiagnosticSink& sink);

// Splits a command line at spaces; '...' quotes literally, "..." quotes with \" and \\ escapes,
// a backslash outside quotes escapes the next character. Returns false (and the byte offset of
// the unclosed quote) when a quote is not closed.
bool split_command_line(std::string_view line, std::vector<std::string>& argv,
                        size_t& error_offset);

}  // namespace faultline
