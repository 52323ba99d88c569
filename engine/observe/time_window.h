// TimeWindow: a half-open span [start, end) of plan time (microseconds since the start of the
// first phase), the unit every observation query is asked over.
#pragma once

#include "common/units.h"

namespace faultline::observe {

struct TimeWindow {
  Duration start{0};
  Duration end{0};

  Duration length() const { return end - start; }
  double seconds() const { return static_cast<double>(length().count()) / 1e6; }
  bool contains(Duration t) const { return t >= start && t < end; }
};

}  // namespace faultline::observe
