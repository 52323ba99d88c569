// Reads one YAML file into a JSON DOM and records where every value came from. This is where
// YAML's surprises are dealt with, so later stages see plain JSON:
//  - scalar typing follows the YAML 1.2 core schema: plain true/false are booleans, yes/on/no
//    are text, 012 is the integer 12, 0x1F and 0o17 are integers, quoted values are always text;
//  - `${VAR}` substitution in values (variable_substitution.h), before typing;
//  - duplicate keys are errors at the second key (yaml-cpp would silently keep the first);
//  - merge keys `<<: *base` / `<<: [*a, *b]` are resolved with YAML 1.1 semantics (keys of the
//    mapping win over merged ones; among several merged mappings the first wins);
//  - tabs in indentation and syntax errors become diagnostics at their place;
//  - recursive aliases, more than one document, nesting deeper than 64 levels and alias
//    expansion beyond 100000 values more than the file's size in bytes are errors, so hostile
//    input cannot exhaust memory or stack.
#pragma once

#include <string>

#include <rapidjson/document.h>

#include "spec/diagnostic_sink.h"
#include "spec/source_map.h"
#include "spec/variable_substitution.h"

namespace faultline {

// Parses `text` (the contents of `file`) into `doc`, adding the file's text and every value's
// place to `map` and problems to `sink` (which must report through `map`). Returns false when
// the text is not YAML at all (doc is then null); true otherwise, even if some values were
// reported (those become null).
bool read_yaml_document(const std::string& text, const std::string& file,
                        const VariableLookup& lookup, rapidjson::Document& doc, SourceMap& map,
                        DiagnosticSink& sink);

}  // namespace faultline
