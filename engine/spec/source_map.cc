#include "spec/source_map.h"

#include <algorithm>
#include <cctype>

namespace faultline {

namespace {

SourceLoc loc_of_byte(const std::string& text, const std::string& file, size_t pos) {
  pos = std::min(pos, text.size());
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return SourceLoc{file, line, static_cast<int>(pos - line_start) + 1};
}

bool is_plain_word(std::string_view key) {
  if (key.empty()) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string escape_token(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string unescape_token(std::string_view token) {
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      out.push_back(token[i + 1] == '0' ? '~' : '/');
      ++i;
    } else {
      out.push_back(token[i]);
    }
  }
  return out;
}

// After a line break inside a flow scalar, YAML folds the break and the next line's indentation.
size_t skip_indentation(const std::string& text, size_t p) {
  while (p < text.size() && (text[p] == ' ' || text[p] == '\t')) ++p;
  return p;
}

}  // namespace

void SourceMap::add_file(const std::string& file, std::string text) {
  texts_[file] = FileText{std::move(text), {}};
}

const std::string* SourceMap::file_text(const std::string& file) const {
  const auto it = texts_.find(file);
  return it == texts_.end() ? nullptr : &it->second.text;
}

std::string SourceMap::line_text(const std::string& file, int line) const {
  const auto it = texts_.find(file);
  if (it == texts_.end() || line <= 0) return {};
  FileText& f = it->second;
  if (f.line_starts.empty()) {
    f.line_starts.push_back(0);
    for (size_t i = 0; i < f.text.size(); ++i) {
      if (f.text[i] == '\n') f.line_starts.push_back(i + 1);
    }
  }
  if (static_cast<size_t>(line) > f.line_starts.size()) return {};
  const size_t start = f.line_starts[static_cast<size_t>(line) - 1];
  size_t end = f.text.find('\n', start);
  if (end == std::string::npos) end = f.text.size();
  if (end > start && f.text[end - 1] == '\r') --end;
  return f.text.substr(start, end - start);
}

void SourceMap::set(const std::string& pointer, const SourceEntry& entry) {
  entries_[pointer] = entry;
}

const SourceEntry* SourceMap::find(const std::string& pointer) const {
  const auto it = entries_.find(pointer);
  return it == entries_.end() ? nullptr : &it->second;
}

const SourceEntry* SourceMap::find_nearest(const std::string& pointer) const {
  std::string p = pointer;
  while (true) {
    if (const SourceEntry* e = find(p)) return e;
    if (p.empty()) return nullptr;
    p = pointer_parent(p);
  }
}

SourceLoc SourceMap::locate_in_value(const std::string& pointer, size_t offset) const {
  const SourceEntry* e = find_nearest(pointer);
  if (e == nullptr) return {};
  if (e->style == ScalarStyle::kNone || e->substituted) return e->value;
  const std::string* text = file_text(e->value.file);
  if (text == nullptr) return e->value;
  return locate_in_scalar(*text, e->value.file, e->value_offset, e->style, offset);
}

void SourceMap::merge_missing(const SourceMap& other) {
  for (const auto& [pointer, entry] : other.entries_) entries_.emplace(pointer, entry);
  for (const auto& [file, text] : other.texts_) texts_.emplace(file, text);
}

std::string pointer_append(const std::string& pointer, std::string_view key) {
  return pointer + "/" + escape_token(key);
}

std::string pointer_append(const std::string& pointer, size_t index) {
  return pointer + "/" + std::to_string(index);
}

std::string pointer_parent(const std::string& pointer) {
  const size_t slash = pointer.rfind('/');
  return slash == std::string::npos ? std::string() : pointer.substr(0, slash);
}

std::string pointer_last(const std::string& pointer) {
  const size_t slash = pointer.rfind('/');
  return slash == std::string::npos ? std::string() : unescape_token(pointer.substr(slash + 1));
}

std::string human_path(const std::string& pointer) {
  std::string out;
  size_t pos = 0;
  while (pos < pointer.size()) {
    const size_t next = pointer.find('/', pos + 1);
    const std::string token = unescape_token(
        pointer.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1));
    const bool index = !token.empty() && std::all_of(token.begin(), token.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c));
    });
    if (index) {
      out += "[" + token + "]";
    } else if (is_plain_word(token)) {
      if (!out.empty()) out += ".";
      out += token;
    } else {
      out += "[\"" + token + "\"]";
    }
    if (next == std::string::npos) break;
    pos = next;
  }
  return out;
}

SourceLoc locate_in_scalar(const std::string& text, const std::string& file, size_t start,
                           ScalarStyle style, size_t offset) {
  size_t p = start;
  size_t decoded = 0;
  switch (style) {
    case ScalarStyle::kNone:
      return loc_of_byte(text, file, start);
    case ScalarStyle::kPlain:
    case ScalarStyle::kSingleQuoted:
    case ScalarStyle::kDoubleQuoted: {
      if (style != ScalarStyle::kPlain) ++p;  // the opening quote
      while (p < text.size() && decoded < offset) {
        const char c = text[p];
        if (c == '\n') {
          p = skip_indentation(text, p + 1);
          ++decoded;  // the folded line break reads as one space
        } else if (style == ScalarStyle::kSingleQuoted && c == '\'' && p + 1 < text.size() &&
                   text[p + 1] == '\'') {
          p += 2;
          ++decoded;
        } else if (style == ScalarStyle::kDoubleQuoted && c == '\\' && p + 1 < text.size()) {
          const char e = text[p + 1];
          if (e == '\n') {
            p = skip_indentation(text, p + 2);  // escaped line break: nothing
          } else {
            p += e == 'x' ? 4 : e == 'u' ? 6 : e == 'U' ? 10 : 2;
            ++decoded;
          }
        } else {
          ++p;
          ++decoded;
        }
      }
      return loc_of_byte(text, file, p);
    }
    case ScalarStyle::kLiteral:
    case ScalarStyle::kFolded: {
      // Content starts on the line after the indicator; its indentation is that of the first
      // non-blank line. Every line break reads as one character (a newline or a space).
      p = text.find('\n', start);
      if (p == std::string::npos) return loc_of_byte(text, file, start);
      ++p;
      size_t probe = p;
      size_t indent = 0;
      while (probe < text.size()) {
        const size_t s = probe;
        while (probe < text.size() && text[probe] == ' ') ++probe;
        if (probe < text.size() && text[probe] == '\n') {
          ++probe;
          continue;
        }
        indent = probe - s;
        break;
      }
      auto skip_indent = [&](size_t at) {
        size_t n = 0;
        while (at < text.size() && text[at] == ' ' && n < indent) {
          ++at;
          ++n;
        }
        return at;
      };
      p = skip_indent(p);
      while (p < text.size() && decoded < offset) {
        if (text[p] == '\n') {
          p = skip_indent(p + 1);
        } else {
          ++p;
        }
        ++decoded;
      }
      return loc_of_byte(text, file, p);
    }
  }
  return loc_of_byte(text, file, start);
}

}  // namespace faultline
