// Colour on the terminal: whether to use it for a stream, and painting text. Colour is on
// when the stream is a terminal, NO_COLOR (https://no-color.org) is unset or empty, and the
// command line did not say --no-color (set_color_mode). Process-wide, set once by the CLI
// before any output; reads after that need no locking.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace faultline {

enum class ColorMode { kAuto, kAlways, kNever };
void set_color_mode(ColorMode mode);

// Whether text written to `out` should be coloured.
bool use_color(std::FILE* out);

// SGR codes for paint().
namespace sgr {
inline constexpr const char* kBold = "1";
inline constexpr const char* kRed = "1;31";
inline constexpr const char* kGreen = "1;32";
inline constexpr const char* kYellow = "1;33";
inline constexpr const char* kDim = "2";
}  // namespace sgr

// `text` in the colour `code` when `on`, else unchanged.
std::string paint(std::string_view text, const char* code, bool on);

}  // namespace faultline
