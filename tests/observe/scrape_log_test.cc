#include "observe/scrape_log.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "observe/scrape_store.h"

using faultline::Duration;
using faultline::observe::GaugeFunction;
using faultline::observe::load_scrape_log;
using faultline::observe::LogFileError;
using faultline::observe::ScrapeLogEntry;
using faultline::observe::ScrapeLogReader;
using faultline::observe::ScrapeLogWriter;
using faultline::observe::ScrapeStore;
using faultline::observe::TimeWindow;

namespace {

std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::path(FAULTLINE_BINARY_DIR) / "tests" / "observe" / "scrape-log";
  std::filesystem::create_directories(dir);
  return dir / name;
}

std::vector<ScrapeLogEntry> entries() {
  std::vector<ScrapeLogEntry> out;
  for (int t = 0; t < 50; ++t) {
    out.push_back({"api", Duration{t * 1'000'000}, true,
                   "# TYPE req_total counter\nreq_total{code=\"200\"} " + std::to_string(t * 10) +
                       "\nqueue_depth " + std::to_string(t % 7) + "\n"});
    out.push_back({"payment service", Duration{t * 1'000'000 + 5}, true,
                   t == 7 ? std::string("bad {{ line\n") : "req_total 1\n"});
  }
  out.push_back({"api", Duration{60'000'000}, false, "connection refused\nsecond line"});
  out.push_back({"api", Duration{61'000'000}, true, std::string("\0\xff\n\n", 4)});  // any bytes
  out.push_back({"api", Duration{62'000'000}, true, ""});
  return out;
}

void write(const std::filesystem::path& path, const std::vector<ScrapeLogEntry>& list) {
  ScrapeLogWriter w(path.string());
  for (const auto& e : list) {
    if (e.ok) {
      w.append_scrape(e.job, e.at, e.text);
    } else {
      w.append_failure(e.job, e.at, e.text);
    }
  }
  w.close();
}

}  // namespace

TEST_CASE("scrape log: entries read back verbatim") {
  const auto path = scratch("all.txt.gz");
  const auto list = entries();
  write(path, list);
  ScrapeLogReader reader(path.string());
  ScrapeLogEntry e;
  size_t i = 0;
  while (reader.next(e)) {
    REQUIRE(i < list.size());
    CHECK(e.job == list[i].job);
    CHECK(e.at == list[i].at);
    CHECK(e.ok == list[i].ok);
    CHECK(e.text == list[i].text);
    ++i;
  }
  CHECK(i == list.size());
  CHECK_FALSE(reader.truncated());
}

TEST_CASE("scrape log: a store rebuilt from the log answers like the original") {
  const auto path = scratch("store.txt.gz");
  const auto list = entries();
  write(path, list);
  ScrapeStore original;
  for (const auto& e : list) {
    if (e.ok) {
      original.add_scrape_text(e.job, e.at, e.text);
    } else {
      original.add_failed_scrape(e.job, e.at, e.text);
    }
  }
  ScrapeStore rebuilt;
  CHECK(load_scrape_log(path.string(), rebuilt) == list.size());
  const TimeWindow w{Duration{0}, Duration{70'000'000}};
  CHECK(rebuilt.increase({"req_total", {}}, w).value ==
        original.increase({"req_total", {}}, w).value);
  CHECK(rebuilt.increase({"req_total", {}}, w).value == 490);
  CHECK(rebuilt.gauge(GaugeFunction::kAvg, {"queue_depth", {}}, w).value ==
        original.gauge(GaugeFunction::kAvg, {"queue_depth", {}}, w).value);
  // The body that did not parse is a failed scrape again, with the parser's message.
  REQUIRE(rebuilt.failures("payment service").size() == 1);
  CHECK(rebuilt.failures("payment service")[0].error.find("line 1:") != std::string::npos);
  CHECK(rebuilt.failures("api").size() == 2);  // the refused scrape and the binary body
}

TEST_CASE("scrape log: cut short, foreign and invalid input") {
  const auto path = scratch("cut.txt.gz");
  const auto list = entries();
  write(path, list);
  const auto cut = scratch("cut-copy.txt.gz");
  std::filesystem::copy_file(path, cut, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(cut, std::filesystem::file_size(path) / 2);
  ScrapeLogReader reader(cut.string());
  ScrapeLogEntry e;
  size_t n = 0;
  while (reader.next(e)) {
    CHECK(e.text == list[n].text);
    ++n;
  }
  CHECK(n < list.size());
  CHECK(reader.truncated());

  const auto foreign = scratch("foreign.txt");
  std::ofstream(foreign) << "hello\n";
  CHECK_THROWS_WITH_AS(ScrapeLogReader(foreign.string()),
                       doctest::Contains("is not a faultline scrape log"), LogFileError);
  const auto bad = scratch("bad.txt");
  std::ofstream(bad) << "# faultline-scrapes 1\nscrape 12 x api\n";
  ScrapeLogReader bad_reader(bad.string());
  CHECK_THROWS_WITH_AS(bad_reader.next(e), doctest::Contains("bad.txt:2: bad length"),
                       LogFileError);
  ScrapeLogWriter w(scratch("newline.txt.gz").string());
  CHECK_THROWS_AS(w.append_scrape("a\nb", Duration{0}, ""), std::invalid_argument);
}
