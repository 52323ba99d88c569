// Redaction of large response bodies. The ECMAScript engine used before recursed once per
// character matched, so a 1 MB excerpt overflowed the stack; RE2 needs constant stack.
#include <doctest/doctest.h>

#include <string>

#include "report/redact.h"

using faultline::redact_secrets;

namespace {

constexpr size_t kOneMegabyte = 1 << 20;

}  // namespace

TEST_CASE("a 1 MB header line is redacted to its end") {
  const std::string body = "Authorization: Basic " + std::string(kOneMegabyte, 'A') + "\r\nX: y";
  CHECK(redact_secrets(body) == "Authorization: [redacted]\r\nX: y");
}

TEST_CASE("a 1 MB token, key=value and JSON field are redacted") {
  CHECK(redact_secrets("bearer " + std::string(kOneMegabyte, 't') + " end") ==
        "bearer [redacted] end");
  CHECK(redact_secrets("?api_key=" + std::string(kOneMegabyte, 'k') + "&page=2") ==
        "?api_key=[redacted]&page=2");
  CHECK(redact_secrets(R"({"password":")" + std::string(kOneMegabyte, 'p') + R"(","n":1})") ==
        R"({"password":"[redacted]","n":1})");
}

TEST_CASE("secrets and addresses in a 1 MB body of other text are all found") {
  // A long run of e-mail-like characters with no '@' makes a backtracking engine retry at
  // every position; the secrets sit at both ends.
  const std::string filler(kOneMegabyte, 'a');
  const std::string body = "token=abc " + filler + " mail jane.doe@example.com";
  CHECK(redact_secrets(body) == "token=[redacted] " + filler + " mail [redacted-email]");
}

TEST_CASE("bytes that are not UTF-8 do not end a secret early") {
  // Bodies are bytes: a secret with a byte such as 0xFF inside is redacted whole.
  CHECK(redact_secrets("token=abc\xFF"
                       "def&x=1") == "token=[redacted]&x=1");
  CHECK(redact_secrets("Authorization: Bearer \xC3(\xFFzz\nnext") ==
        "Authorization: [redacted]\nnext");
  CHECK(redact_secrets(std::string("bearer ab\0cd", 12)) ==
        std::string("bearer [redacted]\0cd", 20));
}

TEST_CASE("redaction is case-insensitive for names and leaves other text alone") {
  CHECK(redact_secrets("AUTHORIZATION:secret") == "AUTHORIZATION:[redacted]");
  CHECK(redact_secrets("Bearer X") == "Bearer [redacted]");
  CHECK(redact_secrets("API_KEY=1 access_TOKEN=2") == "API_KEY=[redacted] access_TOKEN=[redacted]");
  CHECK(redact_secrets("tokens are counted, 5 tokens") == "tokens are counted, 5 tokens");
  CHECK(redact_secrets("Mail@Example.COM") == "[redacted-email]");
}
