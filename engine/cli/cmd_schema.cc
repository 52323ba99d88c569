// faultline schema [scenario|environment] : prints a JSON Schema compiled into the binary, for
// editors (yaml-language-server) and other tools.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "common/error.h"
#include "spec/embedded_schemas.h"

namespace faultline::cli {

namespace {

int run_schema(int argc, char** argv) {
  const std::string which = argc > 1 ? argv[1] : "scenario";
  if (which == "-h" || which == "--help") {
    std::printf(
        "usage: faultline schema [scenario|environment|report|compare]\n\n"
        "Prints a JSON Schema (draft-04): of scenario files (default), environment files, run\n"
        "artifacts (artifacts/incident-*.json) or compare artifacts (artifacts/compare-*.json).\n"
        "Specs name it in their first line for editor completion and hover:\n"
        "  # yaml-language-server: $schema=../schemas/scenario.schema.json\n");
    return 0;
  }
  if (argc > 2)
    throw UsageError("schema takes one argument: scenario, environment, report or compare");
  std::string_view text;
  if (which == "scenario") {
    text = scenario_schema_json();
  } else if (which == "environment") {
    text = environment_schema_json();
  } else if (which == "report") {
    text = report_schema_json();
  } else if (which == "compare") {
    text = compare_schema_json();
  } else {
    throw UsageError("unknown schema \"" + which +
                     "\": expected scenario, environment, report or compare");
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}

const CommandRegistration reg({"schema",
                               "print a JSON Schema (scenario, environment, report, compare)", 25,
                               &run_schema});

}  // namespace

}  // namespace faultline::cli
