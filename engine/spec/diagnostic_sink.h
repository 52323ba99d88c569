// DiagnosticSink: collects the diagnostics of one loaded document, turning a JSON pointer into
// a place through the document's SourceMap. Every stage of loading (YAML reading, schema check,
// semantic checks) reports through one sink, so a value is never reported twice: a second error
// at the same pointer is dropped (the first stage to notice a value's problem explains it).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "spec/diagnostic.h"
#include "spec/source_map.h"

namespace faultline {

class DiagnosticSink {
 public:
  // Where to point for a pointer: kAuto is the value for scalars and the key for mappings and
  // lists (the key names what is wrong; a mapping's own mark is its first child).
  enum class Anchor { kAuto, kKey, kValue };

  // REQUIRES: map and out outlive the sink.
  DiagnosticSink(const SourceMap& map, std::vector<Diagnostic>& out) : map_(map), out_(out) {}

  void error(const std::string& pointer, std::string message, std::string hint = {},
             Anchor anchor = Anchor::kAuto);
  void warning(const std::string& pointer, std::string message, std::string hint = {},
               Anchor anchor = Anchor::kAuto);
  // An error placed at `pointer` that concerns `subject` (another pointer, e.g. a missing
  // field of the mapping at `pointer`); at most one error per subject.
  void error_about(const std::string& pointer, const std::string& subject, std::string message,
                   std::string hint = {}, Anchor anchor = Anchor::kAuto);
  // A place inside a value (e.g. the column of a parse error in an assertion string). Several
  // such errors may concern one value.
  void error_at(const SourceLoc& loc, const std::string& pointer, std::string message,
                std::string hint, int length);
  // A place that has no pointer (e.g. a YAML syntax error).
  void error_at(const SourceLoc& loc, std::string message, std::string hint = {});
  // Like error_at, with severity "note": valid as written, but says how to write it better.
  void note_at(const SourceLoc& loc, const std::string& pointer, std::string message,
               std::string hint, int length);

  bool has_error_at(const std::string& pointer) const { return errors_at_.count(pointer) > 0; }
  // Pointers with an error, so a sink over a document built from this one (extends) does not
  // report the same values again.
  const std::set<std::string>& reported() const { return errors_at_; }
  void mark_reported(const std::set<std::string>& pointers) {
    errors_at_.insert(pointers.begin(), pointers.end());
  }
  size_t error_count() const { return error_count_; }
  const SourceMap& map() const { return map_; }

 private:
  void add(Diagnostic d, const std::string& pointer, bool once_per_pointer);
  void add_at(const char* severity, const SourceLoc& loc, const std::string& pointer,
              std::string message, std::string hint, int length);

  const SourceMap& map_;
  std::vector<Diagnostic>& out_;
  std::set<std::string> errors_at_;
  std::set<std::string> seen_;  // place + message of every diagnostic added
  size_t error_count_ = 0;
};

}  // namespace faultline
