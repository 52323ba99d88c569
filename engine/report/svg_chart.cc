#include "report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace faultline::html {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// Coordinates with one decimal: enough for a 1100 px chart, and short.
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string label_num(double v) {
  char buf[32];
  if (v != 0 && std::fabs(v) < 10)
    std::snprintf(buf, sizeof buf, "%.3g", v);
  else
    std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

std::string exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Pale fills that alternate so neighbouring phases stay apart.
constexpr const char* kBandFills[] = {"#eef3fb", "#fdf1e6", "#eef8ee", "#f6eefa"};

}  // namespace

double nice_ceiling(double v) {
  if (!(v > 0) || !std::isfinite(v)) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= v * (1 - 1e-12)) return m * p;
  return 10 * p;
}

double ChartGeometry::x(double s) const {
  return left + (right - left) * std::clamp(s / x_end_s, 0.0, 1.0);
}

double ChartGeometry::y(double v) const {
  return bottom - (bottom - top) * std::clamp(v / y_max, 0.0, 1.0);
}

ChartGeometry chart_geometry(const SvgChart& chart) {
  ChartGeometry g;
  g.right = chart.width - 10;
  g.bottom = chart.height - 42;
  g.x_end_s = chart.x_end_s > 0 ? chart.x_end_s : 1;
  double max = 0;
  for (const auto& s : chart.series)
    for (const auto& [x, y] : s.points)
      if (std::isfinite(y)) max = std::max(max, y);
  g.y_max = nice_ceiling(max);
  return g;
}

std::string render_svg_chart(const SvgChart& chart) {
  const ChartGeometry g = chart_geometry(chart);
  std::string o;
  o += "<svg id=\"" + escape(chart.id) + "\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" ";
  o += "width=\"" + std::to_string(chart.width) + "\" height=\"" + std::to_string(chart.height) +
       "\" viewBox=\"0 0 " + std::to_string(chart.width) + " " + std::to_string(chart.height) +
       "\" role=\"img\"";
  // The axes' scale, so that a reader of the DOM (the browser test) can map points back to
  // plan time and values.
  o += " data-x-end=\"" + exact(g.x_end_s) + "\" data-y-max=\"" + exact(g.y_max) +
       "\" data-plot=\"" + num(g.left) + " " + num(g.top) + " " + num(g.right) + " " +
       num(g.bottom) + "\">";
  o += "<title>" + escape(chart.title) + "</title>";
  o += "<text x=\"" + num(g.left) + "\" y=\"16\" class=\"chart-title\">" + escape(chart.title) +
       (chart.y_unit.empty() ? "" : " (" + escape(chart.y_unit) + ")") + "</text>";

  // Phase bands first, so everything else is drawn over them.
  for (size_t i = 0; i < chart.bands.size(); ++i) {
    const ChartBand& b = chart.bands[i];
    const double x0 = g.x(b.start_s), x1 = g.x(b.end_s);
    o += "<g class=\"phase-band\" data-phase=\"" + escape(b.label) + "\">";
    o += "<rect x=\"" + num(x0) + "\" y=\"" + num(g.top) + "\" width=\"" +
         num(std::max(0.0, x1 - x0)) + "\" height=\"" + num(g.bottom - g.top) + "\" fill=\"" +
         kBandFills[i % std::size(kBandFills)] + "\"><title>" + escape(b.label) + "</title></rect>";
    o += "<text x=\"" + num(x0 + 4) + "\" y=\"" + num(g.top + 12) + "\" class=\"band-label\">" +
         escape(b.label) + "</text></g>";
  }

  // Axes, grid and labels.
  for (int i = 0; i <= 4; ++i) {
    const double v = g.y_max * i / 4;
    o += "<line x1=\"" + num(g.left) + "\" x2=\"" + num(g.right) + "\" y1=\"" + num(g.y(v)) +
         "\" y2=\"" + num(g.y(v)) + "\" class=\"grid\"/>";
    o += "<text x=\"" + num(g.left - 6) + "\" y=\"" + num(g.y(v) + 4) +
         "\" class=\"y-label\" text-anchor=\"end\">" + label_num(v) + "</text>";
  }
  const double x_step = nice_ceiling(g.x_end_s / 10);
  for (double s = 0; s <= g.x_end_s + 1e-9; s += x_step)
    o += "<text x=\"" + num(g.x(s)) + "\" y=\"" + num(g.bottom + 14) +
         "\" class=\"x-label\" text-anchor=\"middle\">" + label_num(s) + "s</text>";

  for (const auto& s : chart.series) {
    std::string d;
    bool pen_down = false;
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(y)) {
        pen_down = false;
        continue;
      }
      d += (pen_down ? "L" : "M") + num(g.x(x)) + " " + num(g.y(y));
      pen_down = true;
    }
    o += "<path class=\"series\" data-series=\"" + escape(s.name) + "\" d=\"" + d +
         "\" fill=\"none\" stroke=\"" + escape(s.color) + "\" stroke-width=\"1.5\"><title>" +
         escape(s.name) + "</title></path>";
  }

  for (const auto& m : chart.markers) {
    const double x = g.x(m.at_s);
    const char* color = m.failed ? "#c0392b" : "#555";
    o += "<g class=\"fault-marker\"><line x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" +
         num(g.top) + "\" y2=\"" + num(g.bottom) + "\" stroke=\"" + color +
         "\" stroke-dasharray=\"4 3\"/><text x=\"" + num(x + 2) + "\" y=\"" + num(g.top - 3) +
         "\" class=\"marker-label\" fill=\"" + color + "\">" + escape(m.label) + "</text><title>" +
         escape(m.tooltip) + "</title></g>";
  }

  // Legend.
  double lx = g.left;
  for (const auto& s : chart.series) {
    o += "<rect x=\"" + num(lx) + "\" y=\"" + num(chart.height - 12) +
         "\" width=\"10\" height=\"4\" fill=\"" + escape(s.color) + "\"/><text x=\"" +
         num(lx + 14) + "\" y=\"" + num(chart.height - 7) + "\" class=\"legend\">" +
         escape(s.name) + "</text>";
    lx += 24 + 7.0 * static_cast<double>(s.name.size());
  }
  o += "</svg>";
  return o;
}

}  // namespace faultline::html
