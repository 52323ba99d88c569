// parse_json: the one way faultline parses JSON that comes from outside the process (an
// artifact, a bundle's plan.json, a service's GET /__faults body). RapidJSON's default parser
// recurses once per nesting level, so `[` repeated 10^6 times overflows the stack. This one
// parses iteratively (kParseIterativeFlag) and refuses a document nested deeper than
// kMaxJsonDepth, so every later walk over the DOM (writers, Accept, diffs: all recursive) is
// bounded too.
//
// Numbers are read with RapidJSON's default precision, exactly as Document::Parse did, so a
// plan read back hashes as before.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace faultline {

// Deeper than any document faultline writes (a plan nests about 6 levels, an artifact about 8),
// shallow enough that a recursive walk over the result needs a few KB of stack.
inline constexpr int kMaxJsonDepth = 256;

struct JsonParseError {
  std::string message;  // "nested deeper than 256 levels", "Missing a comma or ']' ..."
  size_t offset = 0;    // byte offset of the problem in the text
  bool too_deep = false;

  // "<message> (at byte <offset>)"
  std::string describe() const;
};

// Parses `text` into *doc, replacing what it held. Returns true on success. On failure *doc is
// null and *error (when given) says what is wrong and where.
// REQUIRES: max_depth >= 1.
bool parse_json(std::string_view text, rapidjson::Document* doc, JsonParseError* error = nullptr,
                int max_depth = kMaxJsonDepth);

}  // namespace faultline
