#include "dsl/lexer.h"

#include <cctype>

namespace faultline::dsl {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_ident_start(char c) {
  return is_alpha(c) || c == '_';
}
bool is_ident_char(char c) {
  return is_ident_start(c) || is_digit(c) || c == '-';
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  static const char* kHex = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 15];
}

// Length of the number starting at text[i] (digits, optional fraction, optional unit).
// Sets *digits to the length of the numeric part.
size_t scan_number(std::string_view text, size_t i, size_t* digits) {
  const size_t start = i;
  while (i < text.size() && is_digit(text[i])) ++i;
  if (i + 1 < text.size() && text[i] == '.' && is_digit(text[i + 1])) {
    ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
  }
  *digits = i - start;
  if (i < text.size() && text[i] == '%') return i + 1 - start;
  if (i + 1 < text.size() && text[i] == '/' &&
      (text[i + 1] == 's' || text[i + 1] == 'm' || text[i + 1] == 'h') &&
      (i + 2 == text.size() || !is_ident_char(text[i + 2]))) {
    return i + 2 - start;
  }
  if (i < text.size() && is_alpha(text[i])) {
    // A unit, possibly compound ("1m30s", "1m30.5s").
    while (i < text.size()) {
      if (is_alpha(text[i]) || is_digit(text[i])) {
        ++i;
      } else if (text[i] == '.' && i + 1 < text.size() && is_digit(text[i + 1])) {
        ++i;
      } else {
        break;
      }
    }
  }
  return i - start;
}

}  // namespace

bool tokenize(std::string_view text, std::vector<Token>* tokens, DslProblem* error) {
  tokens->clear();
  size_t i = 0;
  while (true) {
    while (i < text.size() && is_space(text[i])) ++i;
    Token t;
    t.offset = i;
    if (i == text.size()) {
      t.kind = TokenKind::kEnd;
      t.text = text.substr(i, 0);
      tokens->push_back(std::move(t));
      return true;
    }
    const char c = text[i];
    size_t len = 1;
    if (is_ident_start(c)) {
      t.kind = TokenKind::kIdent;
      while (i + len < text.size() && is_ident_char(text[i + len])) ++len;
    } else if (is_digit(c)) {
      t.kind = TokenKind::kNumber;
      len = scan_number(text, i, &t.digits);
    } else if (c == '"') {
      t.kind = TokenKind::kString;
      bool closed = false;
      while (i + len < text.size()) {
        const char s = text[i + len];
        if (s == '"') {
          ++len;
          closed = true;
          break;
        }
        if (s == '\\') {
          const char e = i + len + 1 < text.size() ? text[i + len + 1] : '\0';
          if (e == '\\' || e == '"') {
            t.value.push_back(e);
          } else if (e == 'n') {
            t.value.push_back('\n');
          } else {
            *error = {i + len, i + len + 1 < text.size() ? 2u : 1u,
                      "unsupported escape in a quoted string",
                      "only \\\\, \\\" and \\n are escapes; write \\\\ for a backslash"};
            return false;
          }
          len += 2;
          continue;
        }
        t.value.push_back(s);
        ++len;
      }
      if (!closed) {
        *error = {i, text.size() - i, "unterminated quoted string", "add the closing '\"'"};
        return false;
      }
    } else {
      t.kind = TokenKind::kPunct;
      const char next = i + 1 < text.size() ? text[i + 1] : '\0';
      switch (c) {
        case '(':
        case ')':
        case '{':
        case '}':
        case ',':
        case ':':
        case '.':
        case '*':
        case '/':
          break;
        case '=':
          if (next == '=' || next == '~') len = 2;
          break;
        case '!':
          if (next == '=' || next == '~') {
            len = 2;
            break;
          }
          *error = {i, 1, "unexpected '!'", "write != (not equal) or !~ (regex does not match)"};
          return false;
        case '>':
        case '<':
          if (next == '=') len = 2;
          break;
        default:
          *error = {i, 1, "unexpected character " + describe_char(c),
                    c == '+' || c == '-' ? "only * and / combine values"
                                         : "quote unusual names: route=\"my.route\""};
          return false;
      }
    }
    t.text = text.substr(i, len);
    tokens->push_back(std::move(t));
    i += len;
  }
}

}  // namespace faultline::dsl
