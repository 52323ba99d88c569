// Error signatures carry an error response's RFC 9457 type and title (observe/
// error_signatures.h problem_of), and the report redacts them like the rest of the signature.
#include <doctest/doctest.h>

#include <string>

#include "observe/client_stats.h"
#include "observe/error_signatures.h"
#include "report/redact.h"

namespace faultline {
namespace {

using observe::error_signature;
using observe::problem_of;

TEST_CASE("problem: type and title of a problem+json body") {
  const std::string body =
      R"({"type":"urn:faultline:problem:payment-failed","title":"Bad Gateway","status":502,)"
      R"("detail":"payment timed out","instance":"/orders"})";
  CHECK(problem_of("application/problem+json", body) ==
        "urn:faultline:problem:payment-failed \"Bad Gateway\"");
  CHECK(problem_of("Application/Problem+JSON; charset=utf-8", body) ==
        "urn:faultline:problem:payment-failed \"Bad Gateway\"");
  CHECK(problem_of("application/json", R"({"title":"Conflict"})") == "\"Conflict\"");
  CHECK(problem_of("application/problem+json", R"({"type":"about:blank"})") == "about:blank");
}

TEST_CASE("problem: nothing from other bodies, and hostile members are tamed") {
  CHECK(problem_of("text/plain", R"({"title":"x"})").empty());
  CHECK(problem_of("application/problem+json", "not json").empty());
  CHECK(problem_of("application/problem+json", "[1,2]").empty());
  CHECK(problem_of("application/problem+json", R"({"title":42})").empty());
  CHECK(problem_of("application/problem+json", std::string(100000, '[')).empty());
  const std::string long_title(500, 'x');
  CHECK(problem_of("application/problem+json", R"({"title":")" + long_title + "\"}") ==
        "\"" + std::string(observe::kMaxProblemMemberBytes, 'x') + "\"");
  CHECK(problem_of("application/problem+json", R"({"title":"a\nb\u0001c"})") == "\"a b c\"");
}

TEST_CASE("problem: signatures carry it, transport errors do not, secrets are redacted") {
  CHECK(error_signature("orders", 502, "", "about:blank \"Bad Gateway\"") ==
        "orders 502 about:blank \"Bad Gateway\"");
  CHECK(error_signature("orders", 503, "", "") == "orders 503");
  CHECK(error_signature("orders", 0, "timeout", "") == "orders timeout");

  observe::ClientStats stats;
  observe::SampleRecord s;
  s.route = "orders";
  s.request_id = "fl-1";
  s.status = 401;
  s.phase = "trigger";
  s.problem = problem_of("application/problem+json",
                         R"({"type":"urn:x:auth","title":"bad token=abc123secret"})");
  stats.record(s);
  const auto signatures = stats.error_signatures().most_frequent();
  REQUIRE(signatures.size() == 1);
  CHECK(signatures[0].signature == "orders 401 urn:x:auth \"bad token=abc123secret\"");
  const std::string shown = redact_secrets(signatures[0].signature);
  CHECK(shown.find("abc123secret") == std::string::npos);
  CHECK(shown.find("orders 401 urn:x:auth") == 0);
}

}  // namespace
}  // namespace faultline
