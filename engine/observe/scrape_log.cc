#include "observe/scrape_log.h"

#include <charconv>
#include <stdexcept>

#include "observe/scrape_store.h"

namespace faultline::observe {

namespace {

constexpr std::string_view kFormatLine = "# faultline-scrapes 1";

template <typename Int>
bool parse_int(std::string_view s, Int* out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

ScrapeLogWriter::ScrapeLogWriter(const std::string& path) : file_(path, "scrape log") {
  file_.write(std::string(kFormatLine) + "\n");
}

void ScrapeLogWriter::append_scrape(std::string_view job, Duration at, std::string_view body) {
  append("scrape", job, at, body);
}

void ScrapeLogWriter::append_failure(std::string_view job, Duration at, std::string_view error) {
  append("failed", job, at, error);
}

void ScrapeLogWriter::append(const char* kind, std::string_view job, Duration at,
                             std::string_view text) {
  if (job.find('\n') != std::string_view::npos) {
    throw std::invalid_argument("scrape log: a job name may not contain a newline");
  }
  header_.assign(kind);
  header_ += ' ';
  header_ += std::to_string(at.count());
  header_ += ' ';
  header_ += std::to_string(text.size());
  header_ += ' ';
  header_ += job;
  header_ += '\n';
  file_.write(header_);
  file_.write(text);
  file_.write("\n");
}

void ScrapeLogWriter::flush() {
  file_.flush();
}

void ScrapeLogWriter::close() {
  file_.close();
}

ScrapeLogReader::ScrapeLogReader(const std::string& path) : file_(path, "scrape log") {
  if (read_line(&line_) ? line_ == kFormatLine : kFormatLine.substr(0, line_.size()) == line_) {
    // A log that ends inside its format line (an empty file included: the run was killed
    // before the first flush) holds no entries: it reads as cut short.
    cut_ = line_ != kFormatLine;
    return;
  }
  throw LogFileError(path + " is not a faultline scrape log (its first line is not \"" +
                     std::string(kFormatLine) + "\")");
}

bool ScrapeLogReader::read_line(std::string* line) {
  line->clear();
  for (int c = file_.get(); c != '\n'; c = file_.get()) {
    if (c < 0) return false;  // the end, or a header cut short
    *line += static_cast<char>(c);
  }
  return true;
}

bool ScrapeLogReader::next(ScrapeLogEntry& entry) {
  if (cut_) return false;
  ++line_number_;
  if (!read_line(&line_)) {
    cut_ = !line_.empty();  // the writer ends every header line with '\n'
    return false;
  }
  auto bad = [&](const std::string& what) {
    return LogFileError(file_.path() + ":" + std::to_string(line_number_) + ": " + what);
  };
  // "<kind> <at_us> <bytes> <job>"
  const size_t a = line_.find(' ');
  const size_t b = a == std::string::npos ? a : line_.find(' ', a + 1);
  const size_t c = b == std::string::npos ? b : line_.find(' ', b + 1);
  if (c == std::string::npos) throw bad("expected \"scrape|failed <at_us> <bytes> <job>\"");
  const std::string_view view(line_);
  const std::string_view kind = view.substr(0, a);
  int64_t at_us = 0;
  size_t bytes = 0;
  if (kind != "scrape" && kind != "failed")
    throw bad("unknown entry \"" + std::string(kind) + "\"");
  if (!parse_int(view.substr(a + 1, b - a - 1), &at_us)) throw bad("bad time");
  if (!parse_int(view.substr(b + 1, c - b - 1), &bytes)) throw bad("bad length");
  entry.ok = kind == "scrape";
  entry.at = Duration{at_us};
  entry.job.assign(view.substr(c + 1));
  entry.text.clear();
  const int end = file_.read(bytes, &entry.text) ? file_.get() : -1;
  if (end < 0) {
    cut_ = true;
    return false;
  }
  if (end != '\n') throw bad("the entry goes on past its " + std::to_string(bytes) + " bytes");
  for (char ch : entry.text) line_number_ += ch == '\n' ? 1 : 0;
  ++line_number_;
  return true;
}

size_t load_scrape_log(const std::string& path, ScrapeStore& store, bool* cut_short) {
  ScrapeLogReader reader(path);
  ScrapeLogEntry e;
  size_t n = 0;
  while (reader.next(e)) {
    if (e.ok) {
      store.add_scrape_text(e.job, e.at, e.text);
    } else {
      store.add_failed_scrape(e.job, e.at, e.text);
    }
    ++n;
  }
  if (cut_short) *cut_short = reader.truncated();
  return n;
}

}  // namespace faultline::observe
