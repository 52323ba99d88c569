#include "observe/sample_log.h"

#include <doctest/doctest.h>

#include <zlib.h>

#include <time.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/rng.h"

using faultline::Rng;
using faultline::observe::SampleLogError;
using faultline::observe::SampleLogReader;
using faultline::observe::SampleLogWriter;
using faultline::observe::SampleRecord;

namespace {

std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::path(FAULTLINE_BINARY_DIR) / "tests" / "observe" / "sample-log";
  std::filesystem::create_directories(dir);
  return dir / name;
}

std::vector<SampleRecord> random_records(size_t n, uint64_t seed) {
  const char* tricky[] = {"",         "plain", "with,comma", "with \"quotes\"",   "line\nbreak",
                          "cr\r\nlf", "\"",    ",",          "snow \xe2\x98\x83", " spaced "};
  Rng rng(seed);
  std::vector<SampleRecord> out;
  for (size_t i = 0; i < n; ++i) {
    SampleRecord r;
    r.seq = i;
    r.request_id = "7f3a" + std::to_string(rng.next_u64());
    r.route = i % 17 == 0 ? tricky[rng.uniform_below(10)] : "orders";
    r.method = i % 2 ? "GET" : "POST";
    const uint64_t order = rng.uniform_below(1000);  // draws in a fixed order (operands of
    const char* suffix = i % 13 == 0 ? tricky[rng.uniform_below(10)] : "";  // + are unsequenced)
    r.path = "/orders/" + std::to_string(order) + suffix;
    r.intended_us = static_cast<int64_t>(i) * 1000;
    r.sent_us = r.intended_us + rng.uniform_int(0, 500);
    r.latency_us = rng.uniform_int(0, 5'000'000);
    r.status = i % 11 == 0 ? 0 : 200 + static_cast<int>(rng.uniform_below(400));
    r.error_class = r.status == 0 ? "timeout" : "";
    r.bytes_in = rng.uniform_int(0, 1 << 20);
    r.bytes_out = -1 * (i % 5 == 0);  // negative values survive too
    r.phase = i < n / 2 ? "warmup" : "trigger,2";
    out.push_back(r);
  }
  return out;
}

std::vector<SampleRecord> read_all(const std::filesystem::path& path, bool* truncated = nullptr) {
  SampleLogReader reader(path.string());
  std::vector<SampleRecord> out;
  SampleRecord r;
  while (reader.next(r)) out.push_back(r);
  if (truncated) *truncated = reader.truncated();
  return out;
}

}  // namespace

TEST_CASE("sample log: write and read back exactly") {
  const auto path = scratch("roundtrip.csv.gz");
  const auto records = random_records(20'000, 1);
  {
    SampleLogWriter writer(path.string());
    for (const auto& r : records) writer.append(r);
    CHECK(writer.records() == records.size());
    writer.close();
  }
  bool truncated = true;
  const auto back = read_all(path, &truncated);
  CHECK_FALSE(truncated);
  REQUIRE(back.size() == records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    CAPTURE(i);
    REQUIRE(back[i] == records[i]);
  }
  // It is gzip: the header reads back through zlib as the documented text.
  gzFile f = gzopen(path.c_str(), "rb");
  char head[200] = {};
  gzread(f, head, sizeof head - 1);
  gzclose(f);
  CHECK(std::string(head).rfind(
            "# faultline-samples 1\nseq,request_id,route,method,path,intended_us,sent_us,"
            "latency_us,status,error_class,bytes_in,bytes_out,phase,ack_id\n",
            0) == 0);
}

TEST_CASE("sample log: an empty log and the destructor closing it") {
  const auto path = scratch("empty.csv.gz");
  { SampleLogWriter writer(path.string()); }
  bool truncated = true;
  CHECK(read_all(path, &truncated).empty());
  CHECK_FALSE(truncated);
}

TEST_CASE("sample log: a log cut short gives its complete records and says so") {
  const auto path = scratch("cut.csv.gz");
  const auto records = random_records(5000, 2);
  SampleLogWriter writer(path.string());
  for (size_t i = 0; i < 3000; ++i) writer.append(records[i]);
  writer.flush();  // what a runner does at phase ends; then it "crashes"
  for (size_t i = 3000; i < 5000; ++i) writer.append(records[i]);
  const auto cut = scratch("cut-copy.csv.gz");
  std::filesystem::copy_file(path, cut, std::filesystem::copy_options::overwrite_existing);
  writer.close();
  bool truncated = false;
  const auto back = read_all(cut, &truncated);
  CHECK(truncated);
  REQUIRE(back.size() == 3000);
  CHECK(back.back() == records[2999]);

  // Cut in the middle of the compressed bytes: a prefix of the records, never garbage.
  const auto whole_size = std::filesystem::file_size(path);
  for (uintmax_t keep : {whole_size / 3, whole_size / 2, whole_size - 5}) {
    std::filesystem::copy_file(path, cut, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(cut, keep);
    bool t = false;
    const auto prefix = read_all(cut, &t);
    CHECK(t);
    CHECK(prefix.size() <= records.size());
    for (size_t i = 0; i < prefix.size(); ++i) REQUIRE(prefix[i] == records[i]);
  }
}

TEST_CASE("sample log: bad files are refused with the path and a reason") {
  CHECK_THROWS_WITH_AS(SampleLogReader(scratch("missing.csv.gz").string()),
                       doctest::Contains("missing.csv.gz"), SampleLogError);
  const auto other = scratch("other.csv");
  std::ofstream(other) << "a,b,c\n1,2,3\n";
  CHECK_THROWS_WITH_AS(SampleLogReader(other.string()),
                       doctest::Contains("is not a faultline sample log"), SampleLogError);
  const auto newer = scratch("newer.csv");
  std::ofstream(newer) << "# faultline-samples 2\nseq\n";
  CHECK_THROWS_WITH_AS(SampleLogReader(newer.string()), doctest::Contains("not supported"),
                       SampleLogError);
  const auto no_column = scratch("no-column.csv");
  std::ofstream(no_column) << "# faultline-samples 1\nseq,request_id\n";
  CHECK_THROWS_WITH_AS(SampleLogReader(no_column.string()),
                       doctest::Contains("has no column \"route\""), SampleLogError);
  // Columns are found by name: reordered and extra columns are fine; a bad number is an error.
  const auto reordered = scratch("reordered.csv");
  std::ofstream(reordered)
      << "# faultline-samples 1\n"
         "phase,extra,seq,request_id,route,method,path,intended_us,sent_us,latency_us,status,"
         "error_class,bytes_in,bytes_out\n"
         "warmup,x,7,id7,orders,GET,/o,1000,1001,2500,200,,10,20\n"
         "warmup,x,8,id8,orders,GET,/o,2000,2001,oops,200,,10,20\n";
  SampleLogReader reader(reordered.string());
  SampleRecord r;
  REQUIRE(reader.next(r));
  CHECK(r.seq == 7);
  CHECK(r.phase == "warmup");
  CHECK(r.latency_us == 2500);
  CHECK_THROWS_WITH_AS(reader.next(r), doctest::Contains("reordered.csv:4: latency_us"),
                       SampleLogError);
  CHECK_THROWS_AS(SampleLogWriter("/nonexistent-dir/x.csv.gz"), SampleLogError);
}

TEST_CASE("sample log: cost per record (thread CPU time, not timed against a limit)") {
  const auto path = scratch("speed.csv.gz");
  const auto records = random_records(100'000, 3);
  auto cpu_seconds = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  const double t0 = cpu_seconds();
  {
    SampleLogWriter writer(path.string());
    for (const auto& r : records) writer.append(r);
    writer.close();
  }
  const double t1 = cpu_seconds();
  SampleLogReader reader(path.string());
  SampleRecord r;
  size_t n = 0;
  while (reader.next(r)) ++n;
  const double t2 = cpu_seconds();
  CHECK(n == records.size());
  MESSAGE("sample log: " << std::filesystem::file_size(path) / 100'000.0 << " bytes/record; CPU "
                         << (t1 - t0) / 100'000 * 1e9 << " ns/record to write, "
                         << (t2 - t1) / 100'000 * 1e9 << " ns/record to read");
}

TEST_CASE(
    "sample log: ack ids round-trip, and a log written before the column reads them as empty") {
  const auto path = scratch("ack.csv.gz").string();
  std::vector<SampleRecord> written(3);
  for (size_t i = 0; i < written.size(); ++i) {
    written[i].seq = i;
    written[i].route = "orders";
    written[i].status = 201;
  }
  written[0].ack_id = "o-1";
  written[1].ack_id = "with,comma \"and quotes\"";
  {
    SampleLogWriter w(path);
    for (const auto& r : written) w.append(r);
    w.close();
  }
  SampleLogReader reader(path);
  SampleRecord r;
  for (const auto& expected : written) {
    REQUIRE(reader.next(r));
    CHECK(r == expected);
  }
  CHECK_FALSE(reader.next(r));

  const auto old = scratch("before-ack-id.csv");
  std::ofstream(old) << "# faultline-samples 1\n"
                        "seq,request_id,route,method,path,intended_us,sent_us,latency_us,status,"
                        "error_class,bytes_in,bytes_out,phase\n"
                        "1,id1,orders,POST,/o,1000,1001,2500,201,,10,20,warmup\n";
  SampleLogReader old_reader(old.string());
  r.ack_id = "left over";
  REQUIRE(old_reader.next(r));
  CHECK(r.seq == 1);
  CHECK(r.ack_id.empty());
}
