#include "cli/spec_names.h"

#include <filesystem>

namespace faultline::cli {

bool is_bare_name(const std::string& arg) {
  if (arg.empty() || arg.find('/') != std::string::npos) return false;
  for (const char* ext : {".yaml", ".yml", ".json"})
    if (arg.ends_with(ext)) return false;
  return true;
}

std::string spec_path_of(const std::string& name, const std::string& dir) {
  return dir + "/" + name + ".yaml";
}

std::string resolve_spec_arg(const std::string& arg, const std::string& dir) {
  std::error_code ec;
  if (!is_bare_name(arg) || std::filesystem::is_regular_file(arg, ec)) return arg;
  for (const char* ext : {".yaml", ".yml"}) {
    const std::string candidate = dir + "/" + arg + ext;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  }
  return arg;
}

}  // namespace faultline::cli
