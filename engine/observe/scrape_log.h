// The scrape log: every scrape of a run, verbatim, streamed to a gzip file in the run's bundle
// (`scrapes.txt.gz`), so that a ScrapeStore can be rebuilt later with no services running:
// re-judging a recorded run, `compare`, or finding out why a scrape did not parse.
//
// Format (gzip text; every body is length-prefixed, so bodies may hold any bytes):
//   # faultline-scrapes 1
//   scrape <at_us> <bytes> <job>\n<body: exactly <bytes> bytes>\n
//   failed <at_us> <bytes> <job>\n<error message: exactly <bytes> bytes>\n
// at_us is plan time in microseconds. A job name may not contain a newline.
//
// Size: a 250 KB exposition compresses about 20 times, so an hour at 1 s is some 50 MB.
// Thread-safety: a writer or reader is used by one thread.
#pragma once

#include <string>
#include <string_view>

#include "common/units.h"
#include "observe/gz_file.h"

namespace faultline::observe {

class ScrapeStore;

struct ScrapeLogEntry {
  std::string job;
  Duration at{0};
  bool ok = true;    // false: a failed scrape
  std::string text;  // the body, or the error message of a failed scrape
};

class ScrapeLogWriter {
 public:
  // Creates (truncates) `path`. Throws LogFileError. The destructor closes the file if close()
  // was not called (errors are lost then).
  explicit ScrapeLogWriter(const std::string& path);

  // Throw LogFileError; std::invalid_argument for a job name with a newline.
  void append_scrape(std::string_view job, Duration at, std::string_view body);
  void append_failure(std::string_view job, Duration at, std::string_view error);
  void flush();
  void close();

 private:
  void append(const char* kind, std::string_view job, Duration at, std::string_view text);

  GzWriteFile file_;
  std::string header_;  // scratch
};

class ScrapeLogReader {
 public:
  // Opens `path` and checks the format line. Throws LogFileError when the file cannot be
  // opened or is not a scrape log. A file that ends inside its format line (an empty one
  // included: a run killed before its first flush) is a log cut short with no entries.
  explicit ScrapeLogReader(const std::string& path);

  // The next entry, or false at the end. Throws LogFileError on a malformed entry or damaged
  // compressed data; an entry cut short ends the log (truncated()).
  bool next(ScrapeLogEntry& entry);
  // True once next() returned false because the file was cut short.
  bool truncated() const { return cut_ || file_.truncated(); }

 private:
  bool read_line(std::string* line);  // false at the end

  GzReadFile file_;
  std::string line_;
  size_t line_number_ = 1;
  bool cut_ = false;  // the file ends inside an entry (or inside the format line)
};

// Replays a whole scrape log into `store`: successful scrapes are parsed again (one that no
// longer parses is recorded as failed), failures are recorded as failures. Returns the number
// of entries read; *cut_short (when given) says whether the log was cut short after them.
// Throws LogFileError.
size_t load_scrape_log(const std::string& path, ScrapeStore& store, bool* cut_short = nullptr);

}  // namespace faultline::observe
