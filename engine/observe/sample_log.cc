#include "observe/sample_log.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace faultline::observe {

namespace {

constexpr std::string_view kFormatLine = "# faultline-samples 1";

// The columns, in the order the writer writes them; the reader maps them by name.
enum Column {
  kSeq,
  kRequestId,
  kRoute,
  kMethod,
  kPath,
  kIntendedUs,
  kSentUs,
  kLatencyUs,
  kStatus,
  kErrorClass,
  kBytesIn,
  kBytesOut,
  kPhase,
  kAckId,  // added later: logs written before it lack it, and read as ""
  kColumnCount
};
constexpr std::array<std::string_view, kColumnCount> kColumnNames = {
    "seq",        "request_id", "route",       "method",   "path",      "intended_us", "sent_us",
    "latency_us", "status",     "error_class", "bytes_in", "bytes_out", "phase",       "ack_id"};
// Columns a log may lack (written by a faultline that had no such column).
constexpr bool is_optional_column(size_t c) {
  return c == kAckId;
}

void put_csv(std::string& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

template <typename Int>
void put_int(std::string& out, Int v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

}  // namespace

SampleLogWriter::SampleLogWriter(const std::string& path) : file_(path, "sample log") {
  std::string header(kFormatLine);
  header += '\n';
  for (size_t i = 0; i < kColumnNames.size(); ++i) {
    if (i) header += ',';
    header += kColumnNames[i];
  }
  header += '\n';
  file_.write(header);
}

void SampleLogWriter::append(const SampleRecord& r) {
  std::string& b = line_;
  b.clear();
  put_int(b, r.seq);
  b += ',';
  put_csv(b, r.request_id);
  b += ',';
  put_csv(b, r.route);
  b += ',';
  put_csv(b, r.method);
  b += ',';
  put_csv(b, r.path);
  b += ',';
  put_int(b, r.intended_us);
  b += ',';
  put_int(b, r.sent_us);
  b += ',';
  put_int(b, r.latency_us);
  b += ',';
  put_int(b, r.status);
  b += ',';
  put_csv(b, r.error_class);
  b += ',';
  put_int(b, r.bytes_in);
  b += ',';
  put_int(b, r.bytes_out);
  b += ',';
  put_csv(b, r.phase);
  b += ',';
  put_csv(b, r.ack_id);
  b += '\n';
  file_.write(b);
  ++records_;
}

void SampleLogWriter::flush() {
  file_.flush();
}

void SampleLogWriter::close() {
  file_.close();
}

SampleLogReader::SampleLogReader(const std::string& path) : file_(path, "sample log") {
  // A log that ends before its header is complete (the run was killed before the first flush)
  // holds no records: it reads as cut short. Text that is not a start of the format line is a
  // foreign file.
  if (!next_row()) {
    std::string partial;
    for (size_t i = 0; i < fields_.size(); ++i) partial += (i ? "," : "") + fields_[i];
    if (kFormatLine.substr(0, partial.size()) != partial) {
      throw SampleLogError(path + " is not a faultline sample log (its first line is not \"" +
                           std::string(kFormatLine) + "\")");
    }
    cut_before_header_ = true;
    return;
  }
  if (fields_.size() != 1 || fields_[0].rfind("# faultline-samples ", 0) != 0) {
    throw SampleLogError(path + " is not a faultline sample log (its first line is not \"" +
                         std::string(kFormatLine) + "\")");
  }
  if (fields_[0] != kFormatLine) {
    throw SampleLogError(path + ": sample log format \"" + fields_[0] +
                         "\" is not supported by this faultline (it reads \"" +
                         std::string(kFormatLine) + "\"); use the faultline that wrote it");
  }
  if (!next_row()) {  // the writer writes both lines at once: only a cut separates them
    cut_before_header_ = true;
    return;
  }
  column_of_.assign(kColumnCount, -1);
  for (size_t i = 0; i < fields_.size(); ++i) {
    for (size_t c = 0; c < kColumnNames.size(); ++c) {
      if (fields_[i] == kColumnNames[c]) column_of_[c] = static_cast<int>(i);
    }
  }
  for (size_t c = 0; c < kColumnNames.size(); ++c) {
    if (column_of_[c] < 0 && !is_optional_column(c)) {
      throw SampleLogError(path + ":2: the header has no column \"" + std::string(kColumnNames[c]) +
                           "\"");
    }
  }
  fields_needed_ = static_cast<size_t>(*std::max_element(column_of_.begin(), column_of_.end()) + 1);
}

bool SampleLogReader::next_row() {
  size_t n = 0;  // fields used in fields_ (strings are reused across rows)
  auto field = [&]() -> std::string& {
    if (n == fields_.size()) fields_.emplace_back();
    fields_[n].clear();
    return fields_[n++];
  };
  int c = file_.get();
  if (c < 0) {
    fields_.clear();
    return false;
  }
  ++line_;
  std::string* f = &field();
  while (true) {
    if (c == '"' && f->empty()) {
      while (true) {  // a quoted field
        c = file_.get();
        if (c < 0) {
          cut_mid_record_ = true;  // cut inside a quoted field
          fields_.resize(n);
          return false;
        }
        if (c == '"') {
          c = file_.get();
          if (c != '"') break;
        }
        if (c == '\n') ++line_;
        *f += static_cast<char>(c);
      }
    }
    if (c < 0) {
      cut_mid_record_ = true;  // the writer ends every row with '\n'
      fields_.resize(n);
      return false;
    }
    if (c == '\n') break;
    if (c == ',') {
      f = &field();
    } else if (c != '\r') {
      *f += static_cast<char>(c);
    }
    c = file_.get();
  }
  fields_.resize(n);
  return true;
}

bool SampleLogReader::next(SampleRecord& r) {
  if (cut_before_header_ || !next_row()) return false;
  auto text = [&](int column) -> const std::string& { return fields_[column_of_[column]]; };
  if (fields_.size() < fields_needed_) {
    throw SampleLogError(file_.path() + ":" + std::to_string(line_) + ": expected " +
                         std::to_string(fields_needed_) + " fields, got " +
                         std::to_string(fields_.size()));
  }
  auto number = [&](int column, auto& out) {
    const std::string& s = text(column);
    const auto res = std::from_chars(s.data(), s.data() + s.size(), out);
    if (s.empty() || res.ec != std::errc() || res.ptr != s.data() + s.size()) {
      throw SampleLogError(file_.path() + ":" + std::to_string(line_) + ": " +
                           std::string(kColumnNames[column]) + " is not an integer: \"" + s + "\"");
    }
  };
  number(kSeq, r.seq);
  r.request_id = text(kRequestId);
  r.route = text(kRoute);
  r.method = text(kMethod);
  r.path = text(kPath);
  number(kIntendedUs, r.intended_us);
  number(kSentUs, r.sent_us);
  number(kLatencyUs, r.latency_us);
  number(kStatus, r.status);
  r.error_class = text(kErrorClass);
  number(kBytesIn, r.bytes_in);
  number(kBytesOut, r.bytes_out);
  r.phase = text(kPhase);
  if (column_of_[kAckId] >= 0)
    r.ack_id = text(kAckId);
  else
    r.ack_id.clear();
  ++records_;
  return true;
}

}  // namespace faultline::observe
