// Splits a DSL statement into tokens. Context-free: the parser decides what a token means.
// Numbers carry their unit suffix in the same token ("800ms", "2%", "50/s", "5xx"), so a
// unit can only be written directly after its number.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/problem.h"

namespace faultline::dsl {

enum class TokenKind {
  kIdent,   // [A-Za-z_][A-Za-z0-9_-]*
  kNumber,  // [0-9]+(.[0-9]+)? followed by an optional unit suffix
  kString,  // "..." with \\ \" \n escapes; value holds the unescaped text
  kPunct,   // ( ) { } , : . * / = == != =~ !~ > >= < <=
  kEnd,     // end of text; offset == text size
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;  // the raw source text of the token (a view into the input)
  size_t offset = 0;
  size_t digits = 0;  // kNumber: how many leading bytes of text are the number itself
  std::string value;  // kString: unescaped contents
  bool is(std::string_view s) const {
    return (kind == TokenKind::kPunct || kind == TokenKind::kIdent) && text == s;
  }
};

// Tokenizes text. On success the last token is kEnd. On failure returns false and sets
// *error (unexpected character, unterminated string, bad escape).
bool tokenize(std::string_view text, std::vector<Token>* tokens, DslProblem* error);

}  // namespace faultline::dsl
