// faultline completion bash: the script completes commands, each command's options and the
// scenario names of specs/, exercised the way bash calls it (COMP_WORDS, COMP_CWORD).
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "cli_harness.h"

using faultline::testing::slurp;
using faultline::testing::TempDir;

namespace {

// COMPREPLY, one word per line, for the command line `words` with the cursor on the last.
std::string complete(const std::string& words) {
  TempDir capture("cli-completion");
  const std::string script = capture / "t.sh";
  const std::string cli = FAULTLINE_CLI;
  {
    FILE* f = std::fopen(script.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fprintf(f,
                 "source <('%s' completion bash) || exit 9\n"
                 "COMP_WORDS=(%s)\nCOMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
                 "_faultline\nprintf '%%s\\n' \"${COMPREPLY[@]}\" | sort\n",
                 cli.c_str(), words.c_str());
    std::fclose(f);
  }
  const std::string cmd = "cd '" + std::string(FAULTLINE_SOURCE_DIR) + "' && timeout 60 bash '" +
                          script + "' > '" + (capture / "out") + "' 2>&1";
  CHECK(std::system(cmd.c_str()) == 0);
  return slurp(capture / "out");
}

}  // namespace

TEST_CASE("completion: commands, options per command, scenario and matrix names") {
  CHECK(complete("faultline ru") == "run\n");
  CHECK(complete("faultline co") == "compare\ncompletion\ncoverage\n");
  CHECK(complete("faultline run latency-tail --j") == "--junit\n");
  CHECK(complete("faultline matrix nightly --j") == "--jobs\n--junit\n");
  CHECK(complete("faultline plan --a") == "--arrivals\n");
  CHECK(complete("faultline new x --f") == "--from\n");
  CHECK(complete("faultline run latency-tail --format ''") == "json\ntext\n");
  // Scenario names from specs/ (files starting the same way are offered too).
  CHECK(complete("faultline run latency-") == "latency-tail\n");
  CHECK(complete("faultline validate error-s") == "error-storm\n");
  CHECK(complete("faultline matrix nigh") == "nightly\n");
  CHECK(complete("faultline new x --from smo") == "smoke\n");
  CHECK(complete("faultline completion ''") == "bash\n");
}
