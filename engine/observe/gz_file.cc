#include "observe/gz_file.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace faultline::observe {

namespace {

constexpr size_t kBufferBytes = 256 * 1024;

gzFile gz(void* f) {
  return static_cast<gzFile>(f);
}

std::string gz_message(void* f) {
  int code = Z_OK;
  const char* m = gzerror(gz(f), &code);
  if (code == Z_ERRNO) return std::strerror(errno);
  return m ? m : "unknown zlib error";
}

void* open_gz(const std::string& path, const std::string& what, const char* mode,
              const char* verb) {
  errno = 0;
  gzFile f = gzopen(path.c_str(), mode);
  if (!f) {
    throw LogFileError(std::string("cannot ") + verb + " " + what + " " + path + ": " +
                       (errno ? std::strerror(errno) : "out of memory"));
  }
  gzbuffer(f, kBufferBytes);
  return f;
}

}  // namespace

GzWriteFile::GzWriteFile(std::string path, std::string what)
    : path_(std::move(path)), what_(std::move(what)) {
  file_ = open_gz(path_, what_, "wb1", "create");
  buffer_.reserve(kBufferBytes + 4096);
}

GzWriteFile::~GzWriteFile() {
  if (!file_) return;
  try {
    close();
  } catch (const LogFileError&) {
    // Destructors must not throw; close() explicitly to see this error.
  }
}

void GzWriteFile::write(std::string_view bytes) {
  buffer_ += bytes;
  if (buffer_.size() >= kBufferBytes) hand_to_zlib();
}

void GzWriteFile::hand_to_zlib() {
  if (buffer_.empty()) return;
  if (!file_) throw LogFileError(what_ + " " + path_ + " is already closed");
  const int n = gzwrite(gz(file_), buffer_.data(), static_cast<unsigned>(buffer_.size()));
  if (n != static_cast<int>(buffer_.size())) {
    throw LogFileError("cannot write " + what_ + " " + path_ + ": " + gz_message(file_));
  }
  buffer_.clear();
}

void GzWriteFile::flush() {
  hand_to_zlib();
  if (gzflush(gz(file_), Z_SYNC_FLUSH) != Z_OK) {
    throw LogFileError("cannot flush " + what_ + " " + path_ + ": " + gz_message(file_));
  }
}

void GzWriteFile::close() {
  if (!file_) throw LogFileError(what_ + " " + path_ + " is already closed");
  std::string error;
  try {
    hand_to_zlib();
  } catch (const LogFileError& e) {
    error = e.what();
  }
  const int rc = gzclose(gz(file_));
  file_ = nullptr;
  if (!error.empty()) throw LogFileError(error);
  if (rc != Z_OK) {
    throw LogFileError("cannot finish " + what_ + " " + path_ + ": " +
                       (rc == Z_ERRNO ? std::strerror(errno) : "zlib error " + std::to_string(rc)));
  }
}

GzReadFile::GzReadFile(std::string path, std::string what)
    : path_(std::move(path)), what_(std::move(what)) {
  file_ = open_gz(path_, what_, "rb", "open");
}

GzReadFile::~GzReadFile() {
  if (file_) gzclose(gz(file_));
}

int GzReadFile::refill() {
  if (eof_) return -1;
  buffer_.resize(kBufferBytes);
  const int n = gzread(gz(file_), buffer_.data(), static_cast<unsigned>(buffer_.size()));
  pos_ = 0;
  if (n <= 0) {
    buffer_.clear();
    eof_ = true;
    int code = Z_OK;
    gzerror(gz(file_), &code);
    // zlib says Z_BUF_ERROR ("unexpected end of file") when the stream stops before its end:
    // a log cut short, as a killed run leaves it, which reads back up to the cut. Anything
    // else (bad compressed data, a bad checksum, a read error) is damage.
    if (code == Z_BUF_ERROR) {
      truncated_ = true;
    } else if (n < 0 || code != Z_OK) {
      throw LogFileError(what_ + " " + path_ + " is damaged: " + gz_message(file_));
    }
    return -1;
  }
  buffer_.resize(static_cast<size_t>(n));
  if (first_fill_ && n == 1 && buffer_[0] == '\x1f' && gzdirect(gz(file_))) {
    // zlib reads a file that is not gzip as it is, and needs both magic bytes to tell: a
    // file holding only the first one is a gzip file cut after its first byte.
    buffer_.clear();
    eof_ = truncated_ = true;
    return -1;
  }
  first_fill_ = false;
  return static_cast<unsigned char>(buffer_[pos_++]);
}

bool GzReadFile::read(size_t n, std::string* out) {
  while (n > 0) {
    if (pos_ == buffer_.size()) {
      const int c = refill();
      if (c < 0) {
        truncated_ = true;
        return false;
      }
      --pos_;  // refill consumed one byte; take it with the block below
    }
    const size_t take = std::min(n, buffer_.size() - pos_);
    out->append(buffer_, pos_, take);
    pos_ += take;
    n -= take;
  }
  return true;
}

}  // namespace faultline::observe
