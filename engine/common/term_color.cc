#include "common/term_color.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>

namespace faultline {

namespace {
std::atomic<ColorMode> g_mode{ColorMode::kAuto};
}  // namespace

void set_color_mode(ColorMode mode) {
  g_mode.store(mode);
}

bool use_color(std::FILE* out) {
  const ColorMode mode = g_mode.load();
  if (mode != ColorMode::kAuto) return mode == ColorMode::kAlways;
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  return out && isatty(fileno(out));
}

std::string paint(std::string_view text, const char* code, bool on) {
  if (!on) return std::string(text);
  return "\033[" + std::string(code) + "m" + std::string(text) + "\033[0m";
}

}  // namespace faultline
