// LabelMatcher with RE2: Prometheus' matcher semantics (RE2 syntax, anchored at both ends, `.`
// matching any character) and label values of any length. libstdc++'s ECMAScript engine, used
// before, recursed once per character and crashed near 20k characters, and read several of
// these patterns differently.
#include "observe/label_matcher.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using faultline::observe::LabelMatcher;
using faultline::observe::Labels;
using faultline::observe::MatchOp;

namespace {

bool regex_matches(const std::string& re, const std::string& value) {
  return LabelMatcher("l", MatchOp::kRegexMatch, re).matches(std::string_view(value));
}

}  // namespace

TEST_CASE("a regex matches label values of hundreds of thousands of characters") {
  const std::string huge = "/api/" + std::string(250'000, 'x');
  CHECK(regex_matches("/api/.*", huge));
  CHECK(regex_matches("/api/x+", huge));
  CHECK(regex_matches("(/api/)?(x|y)*", huge));
  CHECK_FALSE(regex_matches("/api/x*y", huge));
  CHECK_FALSE(LabelMatcher("l", MatchOp::kRegexNoMatch, "/api/[a-z]*").matches(huge));
  CHECK(LabelMatcher("l", MatchOp::kRegexNoMatch, "/health.*").matches(huge));
  // 20k characters, the size that crashed abort_if mid-trigger, through a Labels lookup.
  const Labels labels{{"code", "500"}, {"path", std::string(20'000, 'a')}};  // sorted by name
  CHECK(LabelMatcher("path", MatchOp::kRegexMatch, "a*").matches(labels));
  CHECK_FALSE(LabelMatcher("path", MatchOp::kRegexMatch, "a*b").matches(labels));
}

TEST_CASE("regex matchers are anchored at both ends, as in PromQL") {
  CHECK_FALSE(regex_matches("a", "ab"));
  CHECK_FALSE(regex_matches("b", "ab"));
  CHECK(regex_matches("a|ab", "ab"));  // an alternative that matches the whole value wins
  CHECK_FALSE(regex_matches("5..", "1500"));
  CHECK(regex_matches("", ""));
  CHECK_FALSE(regex_matches("", "x"));
  // The value cannot break out of the anchoring: `a)|(b` is not `^(?:a)|(b)$`.
  CHECK_THROWS_AS(LabelMatcher("l", MatchOp::kRegexMatch, "a)|(b"), std::invalid_argument);
}

TEST_CASE("regex matchers read RE2 syntax, as Prometheus does") {
  CHECK(regex_matches("(?i)get|post", "GET"));      // inline flags
  CHECK(regex_matches(R"(\pL+)", "h\xC3\xA9llo"));  // Unicode classes
  CHECK(regex_matches("[[:digit:]]{3}", "503"));
  CHECK(regex_matches(".", "\xC3\xA9"));      // `.` is one character (UTF-8), not one byte
  CHECK(regex_matches("a.b", "a\nb"));        // `.` matches a newline (Prometheus 3)
  CHECK(regex_matches(R"(\Qa.b\E)", "a.b"));  // quoted literal text
  CHECK_FALSE(regex_matches(R"(\Qa.b\E)", "axb"));
}

TEST_CASE("a regex RE2 refuses is reported with RE2's reason") {
  CHECK_THROWS_WITH(LabelMatcher("l", MatchOp::kRegexMatch, "(a"),
                    doctest::Contains("missing ): (a"));
  // Backreferences and lookarounds are not RE2 (nor PromQL).
  CHECK_THROWS_WITH(LabelMatcher("l", MatchOp::kRegexMatch, R"((a)\1)"),
                    doctest::Contains("invalid escape sequence: \\1"));
  CHECK_THROWS_WITH(LabelMatcher("l", MatchOp::kRegexMatch, "a(?=b)"),
                    doctest::Contains("invalid perl operator: (?="));
  CHECK_THROWS_WITH(LabelMatcher("code", MatchOp::kRegexNoMatch, "a{2,1001}"),
                    doctest::Contains("code!~\"a{2,1001}\""));
  // = and != take the value literally: no regex, nothing to refuse.
  CHECK(LabelMatcher("l", MatchOp::kEqual, "(a").matches(std::string_view("(a")));
}

TEST_CASE("copies of a regex matcher share the compiled regex and outlive the original") {
  std::vector<LabelMatcher> copies;
  {
    const LabelMatcher original("code", MatchOp::kRegexMatch, "5..");
    copies.assign(4, original);
  }
  std::vector<std::thread> threads;
  std::vector<int> matched(copies.size(), 0);
  for (size_t t = 0; t < copies.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        matched[t] += copies[t].matches(std::string_view(i % 2 == 0 ? "503" : "200")) ? 1 : 0;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : matched) CHECK(m == 500);
}
