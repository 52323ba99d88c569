#include "spec/diagnostic_sink.h"

#include <algorithm>

namespace faultline {

namespace {

Diagnostic make(const SourceMap& map, const std::string& severity, const std::string& pointer,
                std::string message, std::string hint, DiagnosticSink::Anchor anchor) {
  Diagnostic d;
  d.severity = severity;
  d.path = human_path(pointer);
  d.message = std::move(message);
  d.hint = std::move(hint);
  if (const SourceEntry* e = map.find_nearest(pointer)) {
    const bool exact = map.find(pointer) == e;
    bool use_key = anchor == DiagnosticSink::Anchor::kKey ||
                   (anchor == DiagnosticSink::Anchor::kAuto && e->style == ScalarStyle::kNone);
    if (e->key.line == 0) use_key = false;
    d.loc = use_key ? e->key : e->value;
    d.length = use_key ? e->key_length : e->value_length;
    if (!exact) d.length = 1;
  }
  return d;
}

}  // namespace

void DiagnosticSink::add(Diagnostic d, const std::string& pointer, bool once_per_pointer) {
  if (once_per_pointer && d.is_error() && errors_at_.count(pointer) > 0) return;
  // The same message at the same place (e.g. through two aliases of one node) is said once.
  if (!seen_.insert(d.loc.str() + "\n" + d.message).second) return;
  if (d.loc.line > 0) d.source_line = map_.line_text(d.loc.file, d.loc.line);
  d.length = std::max(1, d.length);
  if (d.is_error()) {
    errors_at_.insert(pointer);
    ++error_count_;
  }
  out_.push_back(std::move(d));
}

void DiagnosticSink::error(const std::string& pointer, std::string message, std::string hint,
                           Anchor anchor) {
  add(make(map_, "error", pointer, std::move(message), std::move(hint), anchor), pointer, true);
}

void DiagnosticSink::error_about(const std::string& pointer, const std::string& subject,
                                 std::string message, std::string hint, Anchor anchor) {
  add(make(map_, "error", pointer, std::move(message), std::move(hint), anchor), subject, true);
}

void DiagnosticSink::warning(const std::string& pointer, std::string message, std::string hint,
                             Anchor anchor) {
  add(make(map_, "warning", pointer, std::move(message), std::move(hint), anchor), pointer, true);
}

void DiagnosticSink::error_at(const SourceLoc& loc, const std::string& pointer, std::string message,
                              std::string hint, int length) {
  add_at("error", loc, pointer, std::move(message), std::move(hint), length);
}

void DiagnosticSink::note_at(const SourceLoc& loc, const std::string& pointer, std::string message,
                             std::string hint, int length) {
  add_at("note", loc, pointer, std::move(message), std::move(hint), length);
}

void DiagnosticSink::add_at(const char* severity, const SourceLoc& loc, const std::string& pointer,
                            std::string message, std::string hint, int length) {
  Diagnostic d;
  d.severity = severity;
  d.loc = loc;
  d.path = human_path(pointer);
  d.message = std::move(message);
  d.hint = std::move(hint);
  d.length = length;
  add(std::move(d), pointer, false);
}

void DiagnosticSink::error_at(const SourceLoc& loc, std::string message, std::string hint) {
  Diagnostic d;
  d.loc = loc;
  d.message = std::move(message);
  d.hint = std::move(hint);
  add(std::move(d), std::string(), false);
}

}  // namespace faultline
