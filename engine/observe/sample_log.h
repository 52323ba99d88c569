// The sample log: every SampleRecord of a run, streamed to a gzip-compressed CSV file in the
// run's bundle (`samples.csv.gz`), and read back by later stages (`compare` bootstraps from
// raw samples, `replay` re-reads the schedule).
//
// Format (chosen over JSON Lines: a third of the size, and parsing needs no JSON library):
//   line 1: `# faultline-samples 1` (format name and version)
//   line 2: the header, the column names of SampleRecord:
//           seq,request_id,route,method,path,intended_us,sent_us,latency_us,status,
//           error_class,bytes_in,bytes_out,phase,ack_id
//   (ack_id came later: a log without that column reads with ack_id "")
//   then one record per line, RFC 4180 quoting: a field containing a comma, a double quote,
//   CR or LF is quoted, with quotes doubled. Integers in decimal.
// The reader finds columns by header name, so later versions may add columns; missing known
// columns are an error, except the optional ones added since (ack_id). Records appear in the order
// they were appended (the runner appends as requests finish), so a reader that wants the schedule
// sorts by seq or intended_us.
//
// Writing costs one formatted line per sample into gz_file.h's buffer, compressed at zlib
// level 1 when it fills; flush() pushes everything to the file so a crash loses at most what
// followed.
// A log cut short (the run was killed) reads back every complete record, then reports
// truncated() instead of failing; so does one cut before its header was complete (an empty
// file included: a run killed before its first flush), with no records.
//
// Thread-safety: a writer or reader is used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "observe/gz_file.h"
#include "observe/sample_record.h"

namespace faultline::observe {

using SampleLogError = LogFileError;

class SampleLogWriter {
 public:
  // Creates (truncates) `path` and writes the header. Throws SampleLogError. The destructor
  // closes the file if close() was not called (errors are lost then).
  explicit SampleLogWriter(const std::string& path);

  void append(const SampleRecord& record);
  // Everything appended so far reaches the file (a gzip sync point). Throws SampleLogError.
  void flush();
  // Finishes the gzip stream. Throws SampleLogError. REQUIRES: not closed yet.
  void close();

  uint64_t records() const { return records_; }
  const std::string& path() const { return file_.path(); }

 private:
  GzWriteFile file_;
  std::string line_;  // scratch: one formatted record
  uint64_t records_ = 0;
};

class SampleLogReader {
 public:
  // Opens `path` and checks the format line and header. Throws SampleLogError when the file
  // cannot be opened, is not a sample log, or its data is damaged (not when it is cut short).
  explicit SampleLogReader(const std::string& path);

  // The next record, or false at the end. Throws SampleLogError on a malformed record.
  bool next(SampleRecord& record);
  // True once next() returned false because the file ended mid-stream or mid-record.
  bool truncated() const { return file_.truncated() || cut_mid_record_ || cut_before_header_; }
  uint64_t records() const { return records_; }

 private:
  bool next_row();  // reads one CSV row into fields_; false at the end

  GzReadFile file_;
  bool cut_mid_record_ = false;
  bool cut_before_header_ = false;  // no header to read records by: next() returns false
  uint64_t line_ = 0;               // line of the row last read
  uint64_t records_ = 0;
  std::vector<std::string> fields_;
  std::vector<int> column_of_;  // SampleRecord field -> column in the file
  size_t fields_needed_ = 0;    // 1 + the highest column of a known field
};

}  // namespace faultline::observe
