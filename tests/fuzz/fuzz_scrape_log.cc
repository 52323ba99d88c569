// Fuzzes the scrape log reader (observe/scrape_log.h) as `faultline judge` meets it: the input
// is a bundle's scrapes.txt.gz (gzip or, as zlib reads it, plain text), whose bodies go through
// the metrics text parser into the scrape store. Beyond "no crash, no leak, no hang": entries
// come back with what their header says, every problem is a LogFileError naming the file (a
// UsageError in the recorded stage), and a bundle that loads is judged.
#include <cstddef>
#include <cstdint>

#include "recorded_fuzz_world.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fuzz_world;
  const std::string path = world().bundle.scrape_log();
  put_file(path, std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    faultline::observe::ScrapeLogReader reader(path);
    faultline::observe::ScrapeLogEntry e;
    size_t bytes = 0;
    while (reader.next(e)) {
      check(e.job.find('\n') == std::string::npos);
      bytes += e.text.size() + e.job.size();
    }
    check(bytes <= size * 1100 + 1024);  // gzip expands at most about 1032 times
    check(!reader.next(e));
  } catch (const faultline::observe::LogFileError& error) {
    check(std::string_view(error.what()).find(path) != std::string_view::npos);
  }
  load_and_judge("scrapes.txt.gz");
  return 0;
}
