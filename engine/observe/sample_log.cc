#include "observe/sample_log.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace faultline::observe {

namespace {

constexpr std::string_view kFormatLine = "# faultline-samples 1";
constexpr size_t kBufferBytes = 256 * 1024;

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
  kColumnCount
};
constexpr std::array<std::string_view, kColumnCount> kColumnNames = {
    "seq",        "request_id", "route",       "method",   "path",      "intended_us", "sent_us",
    "latency_us", "status",     "error_class", "bytes_in", "bytes_out", "phase"};

gzFile gz(void* f) {
  return static_cast<gzFile>(f);
}

std::string gz_message(void* f) {
  int code = Z_OK;
  const char* m = gzerror(gz(f), &code);
  if (code == Z_ERRNO) return std::strerror(errno);
  return m ? m : "unknown zlib error";
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

SampleLogWriter::SampleLogWriter(const std::string& path) : path_(path) {
  errno = 0;
  file_ = gzopen(path.c_str(), "wb1");
  if (!file_) {
    throw SampleLogError("cannot create sample log " + path + ": " +
                         (errno ? std::strerror(errno) : "out of memory"));
  }
  gzbuffer(gz(file_), kBufferBytes);
  buffer_.reserve(kBufferBytes + 4096);
  buffer_ += kFormatLine;
  buffer_ += '\n';
  for (size_t i = 0; i < kColumnNames.size(); ++i) {
    if (i) buffer_ += ',';
    buffer_ += kColumnNames[i];
  }
  buffer_ += '\n';
}

SampleLogWriter::~SampleLogWriter() {
  if (!file_) return;
  try {
    close();
  } catch (const SampleLogError&) {
    // Destructors must not throw; close() explicitly to see this error.
  }
}

void SampleLogWriter::append(const SampleRecord& r) {
  std::string& b = buffer_;
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
  b += '\n';
  ++records_;
  if (b.size() >= kBufferBytes) write_buffer();
}

void SampleLogWriter::write_buffer() {
  if (buffer_.empty()) return;
  if (!file_) throw SampleLogError("sample log " + path_ + " is already closed");
  const int n = gzwrite(gz(file_), buffer_.data(), static_cast<unsigned>(buffer_.size()));
  if (n != static_cast<int>(buffer_.size())) {
    throw SampleLogError("cannot write sample log " + path_ + ": " + gz_message(file_));
  }
  buffer_.clear();
}

void SampleLogWriter::flush() {
  write_buffer();
  if (gzflush(gz(file_), Z_SYNC_FLUSH) != Z_OK) {
    throw SampleLogError("cannot flush sample log " + path_ + ": " + gz_message(file_));
  }
}

void SampleLogWriter::close() {
  if (!file_) throw SampleLogError("sample log " + path_ + " is already closed");
  std::string error;
  try {
    write_buffer();
  } catch (const SampleLogError& e) {
    error = e.what();
  }
  const int rc = gzclose(gz(file_));
  file_ = nullptr;
  if (!error.empty()) throw SampleLogError(error);
  if (rc != Z_OK) {
    throw SampleLogError(
        "cannot finish sample log " + path_ + ": " +
        (rc == Z_ERRNO ? std::strerror(errno) : "zlib error " + std::to_string(rc)));
  }
}

SampleLogReader::SampleLogReader(const std::string& path) : path_(path) {
  errno = 0;
  file_ = gzopen(path.c_str(), "rb");
  if (!file_) {
    throw SampleLogError("cannot open sample log " + path + ": " +
                         (errno ? std::strerror(errno) : "out of memory"));
  }
  gzbuffer(gz(file_), kBufferBytes);
  if (!next_row() || fields_.size() != 1 || fields_[0].rfind("# faultline-samples ", 0) != 0) {
    gzclose(gz(file_));
    file_ = nullptr;
    throw SampleLogError(path + " is not a faultline sample log (its first line is not \"" +
                         std::string(kFormatLine) + "\")");
  }
  if (fields_[0] != kFormatLine) {
    gzclose(gz(file_));
    file_ = nullptr;
    throw SampleLogError(path + ": sample log format \"" + fields_[0] +
                         "\" is not supported by this faultline (it reads \"" +
                         std::string(kFormatLine) + "\"); use the faultline that wrote it");
  }
  column_of_.assign(kColumnCount, -1);
  if (next_row()) {
    for (size_t i = 0; i < fields_.size(); ++i) {
      for (size_t c = 0; c < kColumnNames.size(); ++c) {
        if (fields_[i] == kColumnNames[c]) column_of_[c] = static_cast<int>(i);
      }
    }
  }
  for (size_t c = 0; c < kColumnNames.size(); ++c) {
    if (column_of_[c] < 0) {
      gzclose(gz(file_));
      file_ = nullptr;
      throw SampleLogError(path + ":2: the header has no column \"" + std::string(kColumnNames[c]) +
                           "\"");
    }
  }
}

SampleLogReader::~SampleLogReader() {
  if (file_) gzclose(gz(file_));
}

int SampleLogReader::get() {
  if (pos_ < buffer_.size()) return static_cast<unsigned char>(buffer_[pos_++]);
  if (eof_) return -1;
  buffer_.resize(kBufferBytes);
  const int n = gzread(gz(file_), buffer_.data(), static_cast<unsigned>(buffer_.size()));
  if (n <= 0) {
    buffer_.clear();
    pos_ = 0;
    eof_ = true;
    int code = Z_OK;
    gzerror(gz(file_), &code);
    if (n < 0 || code != Z_OK) truncated_ = true;  // Z_BUF_ERROR: the stream was cut short
    return -1;
  }
  buffer_.resize(static_cast<size_t>(n));
  pos_ = 0;
  return static_cast<unsigned char>(buffer_[pos_++]);
}

bool SampleLogReader::next_row() {
  size_t n = 0;  // fields used in fields_ (strings are reused across rows)
  auto field = [&]() -> std::string& {
    if (n == fields_.size()) fields_.emplace_back();
    fields_[n].clear();
    return fields_[n++];
  };
  int c = get();
  if (c < 0) {
    fields_.clear();
    return false;
  }
  ++line_;
  std::string* f = &field();
  while (true) {
    if (c == '"' && f->empty()) {
      while (true) {  // a quoted field
        c = get();
        if (c < 0) {
          truncated_ = true;  // cut inside a quoted field
          return false;
        }
        if (c == '"') {
          c = get();
          if (c != '"') break;
        }
        if (c == '\n') ++line_;
        *f += static_cast<char>(c);
      }
    }
    if (c < 0) {
      truncated_ = true;  // the writer ends every row with '\n'
      return false;
    }
    if (c == '\n') break;
    if (c == ',') {
      f = &field();
    } else if (c != '\r') {
      *f += static_cast<char>(c);
    }
    c = get();
  }
  fields_.resize(n);
  return true;
}

bool SampleLogReader::next(SampleRecord& r) {
  if (!file_ || !next_row()) return false;
  auto text = [&](int column) -> const std::string& { return fields_[column_of_[column]]; };
  const size_t needed =
      static_cast<size_t>(*std::max_element(column_of_.begin(), column_of_.end()) + 1);
  if (fields_.size() < needed) {
    throw SampleLogError(path_ + ":" + std::to_string(line_) + ": expected " +
                         std::to_string(needed) + " fields, got " + std::to_string(fields_.size()));
  }
  auto number = [&](int column, auto& out) {
    const std::string& s = text(column);
    const auto res = std::from_chars(s.data(), s.data() + s.size(), out);
    if (s.empty() || res.ec != std::errc() || res.ptr != s.data() + s.size()) {
      throw SampleLogError(path_ + ":" + std::to_string(line_) + ": " +
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
  ++records_;
  return true;
}

}  // namespace faultline::observe
