#include "spec/yaml_reader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <string_view>
#include <vector>

#include "common/text.h"

namespace faultline {

namespace {

constexpr int kMaxDepth = 64;
// Values alias expansion may add beyond what the text itself holds. A value takes at least one
// byte of text, so a document without aliases has at most text.size() values: counting the
// text's size into the budget bounds memory by the input (a large hand-written or generated
// spec loads) while an alias bomb, which multiplies values without adding text, still stops.
constexpr size_t kMaxExpandedValues = 100'000;
constexpr std::string_view kCoreTag = "tag:yaml.org,2002:";

// yaml-cpp's terse parser messages, in words a spec author acts on.
std::pair<std::string, std::string> explain_parser_error(const std::string& msg) {
  using P = std::pair<std::string, std::string>;
  if (msg == YAML::ErrorMsg::MAP_VALUE) {
    return P{"unexpected ':' here",
             "check this line's indentation; quote text that contains \": \""};
  }
  if (msg == YAML::ErrorMsg::END_OF_SEQ_FLOW) {
    return P{"a list opened with '[' is not closed with ']'", ""};
  }
  if (msg == YAML::ErrorMsg::END_OF_MAP_FLOW) {
    return P{"a mapping opened with '{' is not closed with '}'", ""};
  }
  if (msg == YAML::ErrorMsg::FLOW_END) {
    return P{"unexpected ']' or '}' with nothing open to close", ""};
  }
  if (msg == YAML::ErrorMsg::END_OF_MAP || msg == YAML::ErrorMsg::END_OF_SEQ ||
      msg == YAML::ErrorMsg::MAP_KEY || msg == YAML::ErrorMsg::BLOCK_ENTRY) {
    return P{"this line does not fit the structure above it",
             "check its indentation: entries of one mapping or list line up exactly"};
  }
  if (msg == YAML::ErrorMsg::UNKNOWN_TOKEN) {
    return P{"unexpected character", "quote text that starts with @, ` or %"};
  }
  if (msg == YAML::ErrorMsg::UNKNOWN_ANCHOR) {
    return P{"this alias (*name) refers to no anchor (&name) defined before it", ""};
  }
  if (msg.rfind(YAML::ErrorMsg::INVALID_ESCAPE, 0) == 0) {
    return P{"unknown escape \\" + msg.substr(std::string(YAML::ErrorMsg::INVALID_ESCAPE).size()) +
                 " in double-quoted text",
             "use single quotes for text with backslashes, or write \\\\"};
  }
  if (msg == YAML::ErrorMsg::EOF_IN_SCALAR) return P{"quoted text is not closed", ""};
  if (msg == "bad file") {
    return P{"the YAML is nested too deeply or is not YAML text", ""};
  }
  return P{"YAML syntax error: " + msg, ""};
}

// Core schema resolution of a plain scalar (YAML 1.2, 10.3.2).
bool all_of_class(std::string_view s, bool (*pred)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), pred);
}

bool is_dec_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_octal_digit(char c) {
  return c >= '0' && c <= '7';
}

bool is_hex_digit(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

bool is_core_float(std::string_view s) {
  // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  size_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac;
    if (digits == 0 && frac == 0) return false;
  } else if (digits == 0) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp;
    if (exp == 0) return false;
  }
  return i == s.size();
}

// YAML 1.1 read these as booleans; YAML 1.2 (and faultline) reads them as text.
bool is_yaml11_boolean(std::string_view s) {
  static const char* const kWords[] = {"yes", "Yes", "YES", "no",  "No",  "NO",
                                       "on",  "On",  "ON",  "off", "Off", "OFF"};
  return std::any_of(std::begin(kWords), std::end(kWords), [&](const char* w) { return s == w; });
}

class Reader {
 public:
  Reader(const std::string& text, const std::string& file, const VariableLookup& lookup,
         rapidjson::Document::AllocatorType& alloc, SourceMap& map, DiagnosticSink& sink)
      : text_(text),
        file_(file),
        lookup_(lookup),
        alloc_(alloc),
        map_(map),
        sink_(sink),
        max_values_(kMaxExpandedValues + text.size()) {}

  void convert(const YAML::Node& node, const std::string& pointer, const SourceLoc& key_loc,
               int key_length, rapidjson::Value& out, int depth);

 private:
  SourceLoc loc_of(const YAML::Mark& m) const {
    if (m.line < 0) return SourceLoc{file_, 1, 1};
    return SourceLoc{file_, m.line + 1, m.column + 1};
  }
  // Byte offset of the scalar itself: past any &anchor and !tag in front of it.
  size_t content_offset(const YAML::Mark& m) const;
  ScalarStyle style_at(size_t pos) const;
  int raw_length(size_t pos, ScalarStyle style, const std::string& value) const;
  void scalar(const YAML::Node& node, const std::string& pointer, SourceEntry& entry,
              rapidjson::Value& out);
  void mapping(const YAML::Node& node, const std::string& pointer, rapidjson::Value& out,
               int depth);
  void sequence(const YAML::Node& node, const std::string& pointer, rapidjson::Value& out,
                int depth);
  void set_plain(std::string_view s, const std::string& pointer, rapidjson::Value& out);
  bool set_number(std::string_view s, rapidjson::Value& out);

  const std::string& text_;
  const std::string& file_;
  const VariableLookup& lookup_;
  rapidjson::Document::AllocatorType& alloc_;
  SourceMap& map_;
  DiagnosticSink& sink_;
  std::vector<YAML::Node> path_;  // containers being converted, to catch recursive aliases
  const size_t max_values_;       // kMaxExpandedValues beyond the text's own size
  size_t values_ = 0;
  bool budget_reported_ = false;
};

size_t Reader::content_offset(const YAML::Mark& m) const {
  if (m.pos < 0) return 0;
  size_t p = static_cast<size_t>(m.pos);
  while (p < text_.size() && (text_[p] == '&' || text_[p] == '!')) {
    while (p < text_.size() && !std::isspace(static_cast<unsigned char>(text_[p]))) ++p;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
  }
  return p;
}

ScalarStyle Reader::style_at(size_t pos) const {
  if (pos >= text_.size()) return ScalarStyle::kPlain;
  switch (text_[pos]) {
    case '"':
      return ScalarStyle::kDoubleQuoted;
    case '\'':
      return ScalarStyle::kSingleQuoted;
    case '|':
      return ScalarStyle::kLiteral;
    case '>':
      return ScalarStyle::kFolded;
    default:
      return ScalarStyle::kPlain;
  }
}

int Reader::raw_length(size_t pos, ScalarStyle style, const std::string& value) const {
  switch (style) {
    case ScalarStyle::kPlain:
      return value.find('\n') == std::string::npos ? static_cast<int>(value.size()) : 1;
    case ScalarStyle::kSingleQuoted:
    case ScalarStyle::kDoubleQuoted: {
      const char quote = text_[pos];
      size_t p = pos + 1;
      while (p < text_.size() && text_[p] != '\n') {
        if (quote == '"' && text_[p] == '\\') {
          p += 2;
          continue;
        }
        if (text_[p] == quote) {
          if (quote == '\'' && p + 1 < text_.size() && text_[p + 1] == '\'') {
            p += 2;
            continue;
          }
          return static_cast<int>(p - pos + 1);
        }
        ++p;
      }
      return static_cast<int>(p - pos);
    }
    default:
      return 1;
  }
}

bool Reader::set_number(std::string_view s, rapidjson::Value& out) {
  std::string_view digits = s;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  int base = 10;
  if (all_of_class(digits, is_dec_digit)) {
    base = 10;
  } else if (!negative && s.size() > 2 && s.substr(0, 2) == "0o" &&
             all_of_class(s.substr(2), is_octal_digit)) {
    base = 8;
    digits = s.substr(2);
  } else if (!negative && s.size() > 2 && s.substr(0, 2) == "0x" &&
             all_of_class(s.substr(2), is_hex_digit)) {
    base = 16;
    digits = s.substr(2);
  } else if (is_core_float(s)) {
    double d = 0;
    const std::string copy(s[0] == '+' ? s.substr(1) : s);
    const auto [end, ec] = std::from_chars(copy.data(), copy.data() + copy.size(), d);
    if (ec != std::errc() || end != copy.data() + copy.size() || !std::isfinite(d)) return false;
    out.SetDouble(d);
    return true;
  } else {
    return false;
  }
  uint64_t u = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u, base);
  if (ec == std::errc() && end == digits.data() + digits.size()) {
    if (!negative) {
      out.SetUint64(u);
      return true;
    }
    if (u <= static_cast<uint64_t>(INT64_MAX) + 1) {
      out.SetInt64(u == static_cast<uint64_t>(INT64_MAX) + 1 ? INT64_MIN
                                                             : -static_cast<int64_t>(u));
      return true;
    }
  }
  // Integers beyond 64 bits are kept as (inexact) numbers; the schema decides if that is fine.
  double d = 0;
  const std::string copy(s[0] == '+' ? s.substr(1) : s);
  const auto [dend, dec] = std::from_chars(copy.data(), copy.data() + copy.size(), d);
  if (base != 10 || dec != std::errc() || dend != copy.data() + copy.size()) return false;
  out.SetDouble(d);
  return true;
}

void Reader::set_plain(std::string_view s, const std::string& pointer, rapidjson::Value& out) {
  if (s == "~" || s == "null" || s == "Null" || s == "NULL") {
    out.SetNull();
  } else if (s == "true" || s == "True" || s == "TRUE") {
    out.SetBool(true);
  } else if (s == "false" || s == "False" || s == "FALSE") {
    out.SetBool(false);
  } else if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "-.inf" || s == "-.Inf" ||
             s == "-.INF" || s == "+.inf" || s == "+.Inf" || s == "+.INF" || s == ".nan" ||
             s == ".NaN" || s == ".NAN") {
    sink_.error(pointer, "infinite and not-a-number values cannot be used",
                "write a finite number, or quote the text");
    out.SetNull();
  } else if (!s.empty() &&
             (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+' ||
              s[0] == '.') &&
             set_number(s, out)) {
    // typed as a number
  } else {
    out.SetString(s.data(), static_cast<rapidjson::SizeType>(s.size()), alloc_);
  }
}

void Reader::scalar(const YAML::Node& node, const std::string& pointer, SourceEntry& entry,
                    rapidjson::Value& out) {
  const std::string& raw = node.Scalar();
  const std::string& tag = node.Tag();
  const size_t pos = content_offset(node.Mark());
  entry.style = style_at(pos);
  entry.value_offset = pos;
  // The mark is where any &anchor or !tag starts; they precede the value on its line.
  const YAML::Mark mark = node.Mark();
  const bool same_line = mark.pos >= 0 && text_.find('\n', static_cast<size_t>(mark.pos)) >= pos;
  entry.value = same_line ? SourceLoc{file_, mark.line + 1,
                                      mark.column + 1 + static_cast<int>(pos - mark.pos)}
                          : locate_in_scalar(text_, file_, pos, ScalarStyle::kNone, 0);
  entry.value_length = raw_length(pos, entry.style, raw);

  std::string value = raw;
  if (raw.find('$') != std::string::npos) {
    SubstitutionResult sub = substitute_variables(raw, lookup_);
    for (const auto& p : sub.problems) {
      sink_.error_at(locate_in_scalar(text_, file_, pos, entry.style, p.offset), pointer, p.message,
                     p.hint, static_cast<int>(p.length));
    }
    entry.substituted = sub.changed;
    value = std::move(sub.text);
  }
  map_.set(pointer, entry);

  const bool plain = tag == "?";
  if (plain && !entry.substituted && is_yaml11_boolean(value)) {
    sink_.warning(pointer, "\"" + value + "\" is text, not a boolean (YAML 1.2)",
                  "write true or false for a boolean, or quote it to keep the text");
  }
  if (plain) {
    // A plain value that came out of a substitution empty is empty text, not null.
    if (value.empty() && entry.substituted) {
      out.SetString("", alloc_);
    } else {
      set_plain(value, pointer, out);
    }
    return;
  }
  if (tag == "!" || tag == std::string(kCoreTag) + "str") {
    out.SetString(value.data(), static_cast<rapidjson::SizeType>(value.size()), alloc_);
    return;
  }
  const std::string core = tag.rfind(kCoreTag, 0) == 0 ? tag.substr(kCoreTag.size()) : "";
  if (core == "int" || core == "float" || core == "bool" || core == "null") {
    set_plain(value, pointer, out);
    const bool fits = (core == "int" && (out.IsInt64() || out.IsUint64())) ||
                      (core == "float" && out.IsNumber()) || (core == "bool" && out.IsBool()) ||
                      (core == "null" && out.IsNull());
    if (!fits) {
      sink_.error(pointer, "\"" + value + "\" is not a valid !!" + core,
                  "remove the tag or fix the value");
      out.SetNull();
    }
    return;
  }
  sink_.error(pointer, "unsupported tag " + tag,
              "faultline reads plain YAML values; remove the tag");
  out.SetNull();
}

void Reader::convert(const YAML::Node& node, const std::string& pointer, const SourceLoc& key_loc,
                     int key_length, rapidjson::Value& out, int depth) {
  SourceEntry entry;
  entry.key = key_loc;
  entry.key_length = key_length;
  entry.value = loc_of(node.Mark());
  map_.set(pointer, entry);
  if (++values_ > max_values_) {
    if (!budget_reported_) {
      sink_.error(pointer,
                  "the document has more than " + std::to_string(max_values_) +
                      " values once aliases are expanded",
                  "use fewer aliases (*name)");
      budget_reported_ = true;
    }
    out.SetNull();
    return;
  }
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      // An empty value's mark may point at the next line; the key is the better place.
      if (key_loc.line > 0 && entry.value.line != key_loc.line) {
        entry.value = key_loc;
        map_.set(pointer, entry);
      }
      out.SetNull();
      return;
    case YAML::NodeType::Scalar:
      scalar(node, pointer, entry, out);
      return;
    case YAML::NodeType::Map:
    case YAML::NodeType::Sequence:
      break;
  }
  if (depth >= kMaxDepth) {
    sink_.error(pointer, "nested more than " + std::to_string(kMaxDepth) + " levels deep");
    out.SetNull();
    return;
  }
  for (const auto& ancestor : path_) {
    if (ancestor.is(node)) {
      sink_.error(pointer, "this alias refers to a mapping or list that contains it",
                  "an anchor (&name) cannot be used (*name) inside itself");
      out.SetNull();
      return;
    }
  }
  const std::string& tag = node.Tag();
  if (tag != "?" && tag != "!" && tag != std::string(kCoreTag) + "map" &&
      tag != std::string(kCoreTag) + "seq") {
    sink_.error(pointer, "unsupported tag " + tag,
                "faultline reads plain YAML values; remove the tag");
  }
  path_.push_back(node);
  if (node.IsMap()) {
    mapping(node, pointer, out, depth);
  } else {
    sequence(node, pointer, out, depth);
  }
  path_.pop_back();
}

void Reader::sequence(const YAML::Node& node, const std::string& pointer, rapidjson::Value& out,
                      int depth) {
  out.SetArray();
  size_t index = 0;
  for (const auto& item : node) {
    rapidjson::Value v;
    convert(item, pointer_append(pointer, index), SourceLoc{}, 1, v, depth + 1);
    out.PushBack(v, alloc_);
    ++index;
  }
}

void Reader::mapping(const YAML::Node& node, const std::string& pointer, rapidjson::Value& out,
                     int depth) {
  auto is_merge_key = [](const YAML::Node& key) {
    return key.IsScalar() && key.Tag() == "?" && key.Scalar() == "<<";
  };
  std::set<std::string> explicit_keys;
  for (const auto& kv : node) {
    if (kv.first.IsScalar() && !is_merge_key(kv.first)) explicit_keys.insert(kv.first.Scalar());
  }
  out.SetObject();
  std::map<std::string, SourceLoc> seen;  // explicit keys of this mapping, first place
  std::set<std::string> added;
  for (const auto& kv : node) {
    const YAML::Node& key = kv.first;
    const SourceLoc key_loc = loc_of(key.Mark());
    if (is_merge_key(key)) {
      std::vector<YAML::Node> sources;
      const YAML::Node& value = kv.second;
      if (value.IsMap()) {
        sources.push_back(value);
      } else if (value.IsSequence()) {
        for (const auto& s : value) sources.push_back(s);
      }
      const bool all_maps =
          !sources.empty() && std::all_of(sources.begin(), sources.end(),
                                          [](const YAML::Node& s) { return s.IsMap(); });
      if (!all_maps) {
        sink_.error_at(key_loc, pointer, "a merge key (<<) takes a mapping or a list of mappings",
                       "write <<: *defaults or <<: [*a, *b], with &defaults on a mapping", 2);
        continue;
      }
      // Converting a merged mapping records entries under this mapping's pointer; keep this
      // mapping's own entry.
      const SourceEntry own = *map_.find(pointer);
      for (const auto& source : sources) {
        rapidjson::Value merged;
        convert(source, pointer, key_loc, 2, merged, depth);
        if (!merged.IsObject()) continue;
        const rapidjson::Value& from = merged;
        for (auto m = from.MemberBegin(); m != from.MemberEnd(); ++m) {
          const std::string name(m->name.GetString(), m->name.GetStringLength());
          if (explicit_keys.count(name) || !added.insert(name).second) continue;
          out.AddMember(rapidjson::Value(name.c_str(), alloc_), rapidjson::Value(m->value, alloc_),
                        alloc_);
        }
      }
      map_.set(pointer, own);
      continue;
    }
    if (!key.IsScalar() && !key.IsNull()) {
      sink_.error_at(key_loc, pointer, "a key must be a name, not a list or a mapping", "", 1);
      continue;
    }
    const std::string name = key.IsScalar() ? key.Scalar() : std::string();
    const auto first = seen.find(name);
    if (first != seen.end()) {
      sink_.error_at(key_loc, pointer_append(pointer, name),
                     "duplicate key \"" + name + "\" (first at line " +
                         std::to_string(first->second.line) + ")",
                     "YAML keeps only one of them; remove or rename one",
                     static_cast<int>(std::max<size_t>(1, name.size())));
      continue;
    }
    seen.emplace(name, key_loc);
    added.insert(name);
    rapidjson::Value v;
    convert(kv.second, pointer_append(pointer, name), key_loc,
            static_cast<int>(std::max<size_t>(1, name.size())), v, depth + 1);
    out.AddMember(rapidjson::Value(name.c_str(), alloc_), v, alloc_);
  }
}

// Tabs are legal in some places of YAML (inside values) but never in indentation.
bool report_indentation_tabs(const std::string& text, const std::string& file,
                             DiagnosticSink& sink) {
  bool any = false;
  int line = 1;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    for (size_t i = start; i < end && (text[i] == ' ' || text[i] == '\t'); ++i) {
      if (text[i] == '\t') {
        sink.error_at(SourceLoc{file, line, static_cast<int>(i - start) + 1},
                      "tab character in indentation", "YAML indents with spaces only");
        any = true;
        break;
      }
    }
    if (end == text.size()) break;
    start = end + 1;
    ++line;
  }
  return any;
}

// The line (1-based) of a second document's `---` or of content after a `...`, or 0. yaml-cpp's
// LoadAll cannot be used to count documents: it loops forever on input such as a lone ",".
// Markers only count at column 0, where they always end a block scalar too.
int second_document_line(const std::string& text) {
  bool content = false;  // the first document has started
  int line = 1;
  bool ended = false;  // a "..." was seen
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view l(text.data() + start, end - start);
    const auto is_marker = [&](std::string_view m) {
      return l.substr(0, 3) == m && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
    };
    const std::string_view t = trim(l);
    const bool blank = t.empty() || t[0] == '#';
    if (is_marker("---")) {
      if (content || ended) return line;
      content = true;  // the explicit start of the first document
    } else if (is_marker("...")) {
      ended = content;
    } else if (!blank && !(t[0] == '%' && !content)) {
      if (ended) return line;
      content = true;
    }
    start = end + 1;
    ++line;
  }
  return 0;
}

}  // namespace

bool read_yaml_document(const std::string& text, const std::string& file,
                        const VariableLookup& lookup, rapidjson::Document& doc, SourceMap& map,
                        DiagnosticSink& sink) {
  map.add_file(file, text);
  doc.SetNull();
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    if (!report_indentation_tabs(text, file, sink)) {
      const auto [message, hint] = explain_parser_error(e.msg);
      const SourceLoc loc = e.mark.line >= 0 ? SourceLoc{file, e.mark.line + 1, e.mark.column + 1}
                                             : SourceLoc{file, 1, 1};
      sink.error_at(loc, message, hint);
    }
    return false;
  }
  if (const int second = second_document_line(text); second > 0) {
    sink.error_at(SourceLoc{file, second, 1}, "a second YAML document (after ---) in one file",
                  "a file holds one scenario or environment; remove the --- line");
  }
  if (!root.IsDefined() || (root.IsNull() && root.Mark().line < 0)) {
    map.set("", SourceEntry{SourceLoc{}, SourceLoc{file, 1, 1}});
    return true;
  }
  Reader reader(text, file, lookup, doc.GetAllocator(), map, sink);
  reader.convert(root, "", SourceLoc{}, 1, doc, 0);
  return true;
}

}  // namespace faultline
