// faultline report: rebuild the HTML report of a run, a comparison or a matrix from its
// artifact (and a run's bundle) alone, e.g. after copying the artifacts off a CI machine.
#include <cstdio>
#include <cxxopts.hpp>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/plan_flags.h"
#include "common/error.h"
#include "report/html_report.h"

namespace faultline::cli {
namespace {

int report_command(int argc, char** argv) {
  cxxopts::Options opts(
      "faultline report",
      "Write the HTML report (one self-contained file: inline SVG charts and tables, nothing\n"
      "loaded from the network) of a run artifact (incident-*.json, read with its bundle), a\n"
      "comparison (compare-*.json) or a matrix (matrix.json or its folder). A bundle directory\n"
      "stands for the artifact beside it; a bundle alone (a run killed before it wrote its\n"
      "artifact) gives the charts without verdicts. Written beside the artifact as\n"
      "<name>.html unless -o is given.\n");
  opts.custom_help("ARTIFACT.json | BUNDLE_DIR --html [-o FILE]");
  opts.add_options()("html", "write the HTML report (the only format so far)")(
      "o,output", "where to write it", cxxopts::value<std::string>()->default_value(""), "FILE")(
      "h,help", "show this help")("what", "", cxxopts::value<std::string>());
  opts.parse_positional({"what"});
  auto result = parse_or_usage(opts, argc, argv);
  if (result.count("help")) {
    std::cout << opts.help();
    return 0;
  }
  if (!result.count("what"))
    throw UsageError("report needs an artifact (see faultline report --help)");
  if (!result.count("html")) throw UsageError("report: say which format: --html");
  std::string path = result["what"].as<std::string>();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    // A matrix folder, a bundle beside its artifact, or a bundle alone (a killed run: its
    // page has the charts and no verdicts).
    if (std::filesystem::exists(path + "/matrix.json", ec))
      path += "/matrix.json";
    else if (std::filesystem::exists(path + ".json", ec))
      path += ".json";
  }
  const std::string out = html::write_html_report(path, result["output"].as<std::string>());
  std::printf("html: %s\n", out.c_str());
  return 0;
}

const CommandRegistration kReport({"report", "write the HTML report of a run, comparison or matrix",
                                   45, &report_command});

}  // namespace
}  // namespace faultline::cli
