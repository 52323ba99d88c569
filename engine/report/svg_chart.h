// SvgChart: a time-series line chart as one inline <svg> element, for the HTML report. The
// x axis is plan time in seconds, the y axis starts at 0. Phases are drawn as shaded,
// labelled bands behind the lines and fault events as vertical markers whose <title> is
// their tooltip. No script, no external resource: the element renders as it is.
//
// Size: one <path> per series whatever its length (a point costs ~12 bytes), plus one element
// per band and per marker, so callers bound the output by binning their data first.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace faultline::html {

// `text` with &, <, >, " and ' replaced by entities: safe in element content and in quoted
// attribute values.
std::string escape(std::string_view text);

struct ChartSeries {
  std::string name;
  std::string color;  // CSS colour, e.g. "#1f77b4"
  // (x seconds, y) in x order; a NaN y breaks the line (no data in that bin).
  std::vector<std::pair<double, double>> points;
};

struct ChartBand {
  double start_s = 0, end_s = 0;
  std::string label;
};

struct ChartMarker {
  double at_s = 0;
  std::string label;    // short, drawn at the top ("apply", "kill")
  std::string tooltip;  // the <title>
  bool failed = false;  // drawn in red
};

struct SvgChart {
  std::string id;  // the <svg> element's id
  std::string title;
  std::string y_unit;  // "ms", "req/s"
  double x_end_s = 0;  // the x axis runs from 0 to here
  std::vector<ChartSeries> series;
  std::vector<ChartBand> bands;
  std::vector<ChartMarker> markers;
  int width = 1100, height = 260;
};

// Geometry of a chart, exposed for tests: where plan time and values land.
struct ChartGeometry {
  double left = 60, right = 1090, top = 30, bottom = 230;
  double x_end_s = 1, y_max = 1;
  double x(double s) const;
  double y(double v) const;
};
ChartGeometry chart_geometry(const SvgChart& chart);

// A "nice" axis maximum at or above `v` (1, 2 or 5 times a power of ten); 1 when v <= 0.
double nice_ceiling(double v);

// The <svg> element. Bands carry class "phase-band" and data-phase; markers class
// "fault-marker"; each series is a <path class="series" data-series="<name>">. The element
// carries its scale (data-x-end, data-y-max, data-plot="left top right bottom"), so a reader
// of the rendered DOM can map points back to plan time and values.
std::string render_svg_chart(const SvgChart& chart);

}  // namespace faultline::html
