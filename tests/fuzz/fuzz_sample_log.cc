// Fuzzes the sample log reader (observe/sample_log.h) as `faultline judge` meets it: the input
// is a bundle's samples.csv.gz (gzip or, as zlib reads it, plain text). Beyond "no crash, no
// leak, no hang": the reader counts exactly the records it returned, every problem is a
// LogFileError (a UsageError naming the file once in the recorded stage), and a bundle that
// loads is judged.
#include <cstddef>
#include <cstdint>

#include "recorded_fuzz_world.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fuzz_world;
  const std::string path = world().bundle.samples();
  put_file(path, std::string_view(reinterpret_cast<const char*>(data), size));
  try {
    faultline::observe::SampleLogReader reader(path);
    faultline::observe::SampleRecord r;
    uint64_t n = 0;
    while (reader.next(r)) ++n;
    check(n == reader.records());
    check(!reader.next(r));  // the end stays the end
  } catch (const faultline::observe::SampleLogError& e) {
    check(std::string_view(e.what()).find(path) != std::string_view::npos);
  }
  load_and_judge("samples.csv.gz");
  return 0;
}
