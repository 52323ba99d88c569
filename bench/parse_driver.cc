// Benchmark driver for the metrics parser: reads one exposition file into memory and parses it
// --repeat times with one MetricsTextParser (as ScrapeStore does, scrape after scrape), printing
// each parse's time and MB/s. For profiling (`perf record` over many repeats, without the
// summarising `faultline inspect` does) and, with --dump, to print the parsed Exposition
// exactly (values as hex floats) so that two builds of the parser can be compared byte for
// byte. bench/parse-vs-promtool takes its figure from `faultline inspect --stats`, the users'
// entry point; this driver is the tool for working on the parser. Not a test: it prints figures.
#include <chrono>
#include <cstdio>
#include <cxxopts.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "observe/metrics_text_parser.h"

namespace {

using faultline::observe::Exposition;

void dump(const Exposition& e) {
  std::printf("samples %zu duplicates %zu families %zu\n", e.sample_count, e.duplicate_samples,
              e.families.size());
  for (const auto& f : e.families) {
    std::printf("family [%s] %s type_line=%d help_line=%d help=[%s]\n", f.name.c_str(),
                std::string(faultline::observe::metric_type_name(f.type)).c_str(), f.has_type_line,
                f.has_help_line, f.help.c_str());
    for (const auto& s : f.samples) {
      std::printf("  [%s]", s.name.c_str());
      for (const auto& l : s.labels) std::printf(" [%s]=[%s]", l.name.c_str(), l.value.c_str());
      std::printf(" %a", s.value);
      if (s.timestamp_ms) std::printf(" @%lld", static_cast<long long>(*s.timestamp_ms));
      std::printf("\n");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options opts("parse_driver", "faultline's metrics parser, for working on its speed");
  opts.add_options()("file", "exposition file", cxxopts::value<std::string>())(
      "repeat", "parses of the file", cxxopts::value<int>()->default_value("1"))(
      "dump", "print the parsed exposition exactly (after the last parse)")("h,help", "this help");
  opts.parse_positional({"file"});
  try {
    const auto args = opts.parse(argc, argv);
    if (args.count("help") || !args.count("file")) {
      std::cout << opts.help() << "\n";
      return args.count("help") ? 0 : 2;
    }
    std::ifstream in(args["file"].as<std::string>(), std::ios::binary);
    if (!in) {
      std::cerr << "parse_driver: cannot read " << args["file"].as<std::string>() << "\n";
      return 3;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string text = buf.str();
    faultline::observe::MetricsTextParser parser;
    Exposition e;
    const int repeats = args["repeat"].as<int>();
    for (int i = 0; i < repeats; ++i) {
      const auto start = std::chrono::steady_clock::now();
      Exposition parsed = parser.parse(text);
      const double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      e = std::move(parsed);  // frees the previous one outside the timed part, as inspect does
      std::fprintf(stderr, "parse %d: %zu bytes, %zu samples in %.3f ms = %.1f MB/s\n", i + 1,
                   text.size(), e.sample_count, s * 1e3,
                   static_cast<double>(text.size()) / 1e6 / s);
    }
    if (args.count("dump")) dump(e);
  } catch (const faultline::observe::MetricsTextError& e) {
    std::cerr << "parse_driver: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "parse_driver: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
