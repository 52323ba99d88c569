// faultline: finds the subcommand and hands over. Everything else lives in the library.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string_view>

#include "cli/commands.h"
#include "common/error.h"
#include "common/version.h"

namespace faultline::cli {

namespace {
std::vector<Command>& mutable_commands() {
  static std::vector<Command> commands;
  return commands;
}
}  // namespace

CommandRegistration::CommandRegistration(const Command& command) {
  auto& all = mutable_commands();
  all.push_back(command);
  std::sort(all.begin(), all.end(),
            [](const Command& a, const Command& b) { return a.order < b.order; });
}

const std::vector<Command>& registered_commands() {
  return mutable_commands();
}

namespace {

const CommandRegistration kVersion({"version", "print the faultline version", 1000,
                                    [](int, char**) {
                                      std::printf("faultline %s\n", faultline::version());
                                      return 0;
                                    }});

void print_usage(FILE* out) {
  std::fprintf(out,
               "faultline %s: declarative incident reproduction and chaos engine\n\n"
               "usage: faultline <command> [options]   (faultline <command> --help for more)\n\n"
               "commands:\n",
               faultline::version());
  for (const auto& c : registered_commands()) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out,
               "\nexit codes: 0 pass, 1 assertions failed or inconclusive, 2 invalid spec or "
               "usage,\n            3 environment error, 130 interrupted (after cleanup)\n");
}

}  // namespace
}  // namespace faultline::cli

int main(int argc, char** argv) {
  using namespace faultline::cli;
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  const std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(stdout);
    return 0;
  }
  const std::string_view wanted = name == "--version" ? "version" : name;
  for (const auto& c : registered_commands()) {
    if (wanted != c.name) continue;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const faultline::Error& e) {
      std::fprintf(stderr, "faultline %s: %s\n", c.name, e.what());
      return static_cast<int>(e.code());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "faultline %s: internal error: %s\n", c.name, e.what());
      return static_cast<int>(faultline::ExitCode::kEnvironment);
    }
  }
  std::fprintf(stderr, "faultline: unknown command '%s'\n\n", argv[1]);
  print_usage(stderr);
  return 2;
}
