// GzWriteFile and GzReadFile: the one gzip file wrapper behind observe's logs (the sample
// log and the scrape log), over zlib's gz* API. Writes are buffered (256 KB) and handed to
// zlib at compression level 1; reads come back byte by byte from a 256 KB buffer. Failures are
// LogFileError exceptions naming the file. A file cut short (a killed run) reads back up to
// the cut and then reports truncated(); damaged compressed data (anything but a cut) throws.
//
// Thread-safety: one thread per file object.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace faultline::observe {

// I/O failure or a malformed log; the message names the file (and line where it applies).
class LogFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class GzWriteFile {
 public:
  // Creates (truncates) `path`. `what` names the kind of file in messages ("sample log").
  GzWriteFile(std::string path, std::string what);
  ~GzWriteFile();  // closes if close() was not called; errors are lost then
  GzWriteFile(const GzWriteFile&) = delete;
  GzWriteFile& operator=(const GzWriteFile&) = delete;

  void write(std::string_view bytes);
  // Everything written so far reaches the file (a gzip sync point).
  void flush();
  // Finishes the gzip stream. REQUIRES: not closed yet.
  void close();
  const std::string& path() const { return path_; }

 private:
  void hand_to_zlib();

  std::string path_;
  std::string what_;
  void* file_ = nullptr;  // gzFile; kept opaque so zlib.h stays out of this header
  std::string buffer_;
};

class GzReadFile {
 public:
  GzReadFile(std::string path, std::string what);
  ~GzReadFile();
  GzReadFile(const GzReadFile&) = delete;
  GzReadFile& operator=(const GzReadFile&) = delete;

  // The next byte, or -1 at the end. Throws LogFileError when the compressed data is damaged
  // (a cut is not damage: see truncated()).
  int get() {
    if (pos_ < buffer_.size()) return static_cast<unsigned char>(buffer_[pos_++]);
    return refill();
  }
  // Appends the next `n` bytes to *out; false when the file ended first.
  bool read(size_t n, std::string* out);
  // True once the end was reached because the file stopped mid-stream.
  bool truncated() const { return truncated_; }
  const std::string& path() const { return path_; }
  const std::string& what() const { return what_; }

 private:
  int refill();

  std::string path_;
  std::string what_;
  void* file_ = nullptr;  // gzFile
  std::string buffer_;
  size_t pos_ = 0;
  bool eof_ = false;
  bool truncated_ = false;
  bool first_fill_ = true;
};

}  // namespace faultline::observe
