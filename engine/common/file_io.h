// Whole-file reads and atomic writes: the one way faultline puts an artifact, a plan or a
// report on disk, so a reader never sees half a file (temp file in the same directory, fsync,
// rename).
#pragma once

#include <optional>
#include <string>

namespace faultline {

// The file's bytes, or nullopt when it cannot be opened.
std::optional<std::string> read_whole_file(const std::string& path);

// Writes `content` to `path` through `path.tmp.<pid>` and a rename. Throws EnvironmentError
// naming the file and the OS error.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace faultline
