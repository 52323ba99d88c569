#include "run/progress.h"

#include <unistd.h>

#include <cmath>

namespace faultline {

namespace {

std::string ms_text(std::optional<double> seconds) {
  if (!seconds) return "-";
  char buf[32];
  const double ms = *seconds * 1000;
  std::snprintf(buf, sizeof buf, ms < 10 ? "%.1fms" : "%.0fms", ms);
  return buf;
}

std::string pct_text(std::optional<double> fraction) {
  if (!fraction) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", *fraction * 100);
  return buf;
}

}  // namespace

ProgressPrinter::ProgressPrinter(ProgressMode mode, std::FILE* out) : mode_(mode), out_(out) {
  if (mode_ == ProgressMode::kAuto)
    mode_ = ::isatty(::fileno(out)) ? ProgressMode::kTerminal : ProgressMode::kLines;
}

void ProgressPrinter::update(const ProgressSnapshot& s) {
  if (mode_ == ProgressMode::kQuiet) return;
  // A terminal line refreshes every second; log lines every five.
  const Duration every =
      mode_ == ProgressMode::kTerminal ? std::chrono::seconds(1) : std::chrono::seconds(5);
  if (s.elapsed - last_line_ < every) return;
  last_line_ = s.elapsed;
  char line[256];
  std::snprintf(line, sizeof line,
                "[%-9s %6.1fs/%.0fs] rate %.1f/%.1f/s  p95 %s  errors %s  in-flight %llu  "
                "dropped %llu",
                s.phase.c_str(), std::chrono::duration<double>(s.elapsed).count(),
                std::chrono::duration<double>(s.total).count(), s.achieved_rate, s.planned_rate,
                ms_text(s.p95_s).c_str(), pct_text(s.error_rate).c_str(),
                static_cast<unsigned long long>(s.in_flight),
                static_cast<unsigned long long>(s.dropped));
  if (mode_ == ProgressMode::kTerminal) {
    std::fprintf(out_, "\r\033[K%s", line);
    drew_ = true;
  } else {
    std::fprintf(out_, "%s\n", line);
  }
  std::fflush(out_);
}

void ProgressPrinter::finish() {
  if (drew_) std::fprintf(out_, "\n");
  drew_ = false;
  std::fflush(out_);
}

}  // namespace faultline
