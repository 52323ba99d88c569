// SourceMap: where each value of a loaded spec document came from. Keys are JSON pointers into
// the document ("/phases/1/duration"); entries give the file, line and column of the key and of
// the value, and for text values enough about how the scalar was written (quoting style, byte
// offset) to point at a character inside it, e.g. the column an assertion parse error names.
//
// A document assembled from several files (`extends`) keeps, for every pointer, the place in the
// file that supplied the value. The map also keeps the text of every file it refers to, so
// diagnostics can show the offending line.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "spec/scenario.h"

namespace faultline {

// How a scalar was written in YAML. kNone: not a scalar (mapping, list, null, alias target).
enum class ScalarStyle { kNone, kPlain, kSingleQuoted, kDoubleQuoted, kLiteral, kFolded };

struct SourceEntry {
  SourceLoc key;    // the key naming this value (line 0 for list items and the root)
  SourceLoc value;  // the value's first character (after any &anchor or !tag)
  ScalarStyle style = ScalarStyle::kNone;
  size_t value_offset = 0;   // byte offset of value in its file's text (scalars only)
  int value_length = 1;      // columns the value spans on its first line (for underlining)
  int key_length = 1;        // columns of the key
  bool substituted = false;  // ${...} changed the text: offsets into it no longer map to bytes
};

class SourceMap {
 public:
  void add_file(const std::string& file, std::string text);
  // Text of a file added with add_file, or nullptr.
  const std::string* file_text(const std::string& file) const;
  // Line `line` (1-based) of `file` without its newline; empty when unknown.
  std::string line_text(const std::string& file, int line) const;

  void set(const std::string& pointer, const SourceEntry& entry);
  const SourceEntry* find(const std::string& pointer) const;
  // The entry of `pointer` or of its nearest ancestor that has one; nullptr if none.
  const SourceEntry* find_nearest(const std::string& pointer) const;

  // Place of the character at byte `offset` of the text value at `pointer` (offset into the
  // value as loaded, i.e. after unquoting). Falls back to the value's start when the value was
  // substituted or is not a scalar.
  SourceLoc locate_in_value(const std::string& pointer, size_t offset) const;

  // Copies entries of `other` for pointers this map does not have, and its file texts.
  void merge_missing(const SourceMap& other);

  size_t size() const { return entries_.size(); }

 private:
  struct FileText {
    std::string text;
    std::vector<size_t> line_starts;  // byte offset of each line, built on first use
  };
  std::unordered_map<std::string, SourceEntry> entries_;
  mutable std::map<std::string, FileText> texts_;
};

// JSON pointer helpers (RFC 6901 escaping of '~' and '/').
std::string pointer_append(const std::string& pointer, std::string_view key);
std::string pointer_append(const std::string& pointer, size_t index);
std::string pointer_parent(const std::string& pointer);
// The last token of a pointer, unescaped ("" for the root).
std::string pointer_last(const std::string& pointer);
// "/phases/1/duration" -> "phases[1].duration"; keys that are not plain words are quoted:
// "/traffic/routes/0/headers/Content-Type" -> "traffic.routes[0].headers[\"Content-Type\"]".
std::string human_path(const std::string& pointer);

// Place of the character at decoded `offset` of a scalar written in `style` starting at byte
// `start` of `text` (the first character of the scalar: its quote or block indicator).
SourceLoc locate_in_scalar(const std::string& text, const std::string& file, size_t start,
                           ScalarStyle style, size_t offset);

}  // namespace faultline
