// The HTML report in a real browser: a short latency-tail run against the demo services, its
// report rendered by headless Chromium (Debian `chromium`), and the rendered DOM checked:
// charts present, one phase band per phase on every chart, every assertion listed, nothing
// loaded from the network, and the orders tail inside the trigger band. A screenshot is left
// in the build tree (tests/browser/latency-tail-report.png) for people to look at.
//
// Chromium runs as a child process group (killed with its group when it overruns), with a
// temporary profile, and with every way out of the machine closed: background services off,
// a proxy on a closed loopback port and a resolver that resolves nothing, so the only traffic
// it can make is to 127.0.0.1. Its net log tells which requests the page itself made.
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "common/file_io.h"
#include "common/json_parse.h"
#include "faultline_runs.h"
#include "proc/child_process.h"
#include "temp_dir.h"

using namespace faultline;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Rendered {
  int exit_code = -1;
  std::string dom;     // --dump-dom output
  std::string stderr;  // chromium's log
  std::string netlog;  // path of the net log
};

// Runs chromium headless on `url` with `extra` flags (e.g. --dump-dom), bounded in time.
Rendered chromium(const std::string& url, const std::vector<std::string>& extra,
                  const std::string& dir) {
  static int n = 0;
  const std::string tag = std::to_string(++n);
  ChildSpec spec;
  spec.argv = {CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--user-data-dir=" + dir + "/profile-" + tag,
               // No traffic of its own (updates, accounts, spelling, time), and nowhere to
               // send any: every host resolves to nothing, every request goes to a closed
               // loopback port unless it is for loopback itself.
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-default-apps", "--disable-domain-reliability",
               "--disable-client-side-phishing-detection", "--disable-breakpad", "--no-pings",
               "--disable-features=Translate,OptimizationHints,MediaRouter,SpellCheck,"
               "AutofillServerCommunication",
               "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
               "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
               "--enable-logging=stderr", "--log-net-log=" + dir + "/netlog-" + tag + ".json"};
  spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
  spec.argv.push_back(url);
  spec.stdout_path = dir + "/chromium-" + tag + ".out";
  spec.stderr_path = dir + "/chromium-" + tag + ".err";
  ChildProcess p = ChildProcess::spawn(spec);
  const auto status = p.wait_for_exit(90s);
  p.stop();  // the group: chromium's helper processes too
  Rendered r;
  if (!status) {
    FAIL("chromium did not finish within 90s:\n" << p.log_tail(4000));
    return r;
  }
  r.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  r.dom = read_whole_file(spec.stdout_path).value_or("");
  r.stderr = read_whole_file(spec.stderr_path).value_or("");
  r.netlog = dir + "/netlog-" + tag + ".json";
  return r;
}

// The URLs the page itself requested over the network (chromium's own requests excluded:
// the page's carry the file:// site in their network isolation key).
std::vector<std::string> page_requests(const std::string& netlog_path) {
  std::vector<std::string> urls;
  const auto text = read_whole_file(netlog_path);
  REQUIRE_MESSAGE(text.has_value(), "no net log at " << netlog_path);
  rapidjson::Document d;
  REQUIRE(parse_json(*text, &d));
  for (const auto& e : d["events"].GetArray()) {
    if (!e.HasMember("params") || !e["params"].IsObject()) continue;
    const auto& p = e["params"];
    if (!p.HasMember("url") || !p.HasMember("network_isolation_key")) continue;
    const std::string key = p["network_isolation_key"].GetString();
    if (key.find("file://") != std::string::npos) urls.push_back(p["url"].GetString());
  }
  return urls;
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The <svg> element with this id in `dom`, as text.
std::string svg_by_id(const std::string& dom, const std::string& id) {
  const size_t start = dom.find("<svg id=\"" + id + "\"");
  if (start == std::string::npos) return "";
  return dom.substr(start, dom.find("</svg>", start) - start);
}

std::string attr(const std::string& element, const std::string& name) {
  const size_t at = element.find(" " + name + "=\"");
  if (at == std::string::npos) return "";
  const size_t start = at + name.size() + 3;
  return element.substr(start, element.find('"', start) - start);
}

std::string html_escaped(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

}  // namespace

TEST_CASE("the page check sees a request the page makes") {
  // The harness can fail: a page with an image on a (closed) loopback port is caught.
  testing::TempDir dir("browser-negative");
  write_file_atomically(dir / "bad.html",
                        "<html><body><img src=\"http://127.0.0.1:9/x.png\">hi</body></html>");
  const Rendered r = chromium("file://" + dir / "bad.html", {"--dump-dom"}, dir.path());
  CHECK(r.dom.find("hi") != std::string::npos);
  const auto urls = page_requests(r.netlog);
  CHECK(std::find(urls.begin(), urls.end(), "http://127.0.0.1:9/x.png") != urls.end());
}

TEST_CASE("a latency-tail report renders in chromium with its charts, bands and assertions") {
  // 30 s: a trigger of 12.5 s with some 150 orders, 15 of them slowed.
  testing::Run run = testing::run_faultline(
      {"run", "specs/latency-tail.yaml", "--duration", "30s", "--progress", "quiet"},
      "browser-latency-tail", 150s);
  INFO(run.output);
  REQUIRE(!run.artifact.empty());
  const size_t h = run.output.rfind("\nhtml: ");
  REQUIRE(h != std::string::npos);
  const std::string html_path = run.output.substr(h + 7, run.output.find('\n', h + 7) - h - 7);
  const auto page = read_whole_file(html_path);
  REQUIRE(page.has_value());
  // Nothing to load: no src/href attributes, no CSS url() or @import.
  CHECK_FALSE(std::regex_search(*page, std::regex("(src|href)\\s*=|url\\(|@import")));

  const std::string dir = run.dir->path();
  const Rendered r = chromium("file://" + html_path, {"--dump-dom"}, dir);
  REQUIRE(r.exit_code == 0);
  const std::string& dom = r.dom;
  REQUIRE(dom.find("</html>") != std::string::npos);
  CHECK(page_requests(r.netlog).empty());
  CHECK(r.stderr.find("Failed to load") == std::string::npos);
  CHECK(r.stderr.find("net::ERR_") == std::string::npos);

  // Charts: client and server ones, each with one band per phase and the fault markers.
  const auto& phases = run.report["phases"].GetArray();
  const size_t charts = count_of(dom, "<svg id=\"chart-");
  CHECK(charts >= 6);
  for (const char* id : {"chart-latency", "chart-latency-routes", "chart-throughput",
                         "chart-errors", "chart-server-api-http_request_duration_seconds",
                         "chart-server-payment-http_request_duration_seconds"}) {
    const std::string svg = svg_by_id(dom, id);
    CHECK_MESSAGE(!svg.empty(), id);
    CHECK_MESSAGE(count_of(svg, "class=\"phase-band\"") == phases.Size(), id);
    for (const auto& p : phases)
      CHECK(svg.find(std::string("data-phase=\"") + p["name"].GetString() + "\"") !=
            std::string::npos);
    CHECK_MESSAGE(
        count_of(svg, "class=\"fault-marker\"") == run.report["fault_events"].GetArray().Size(),
        id);
  }

  // Every assertion, with its verdict.
  const auto& assertions = run.report["assertions"].GetArray();
  CHECK(count_of(dom, "<tr class=\"assertion\"") == assertions.Size());
  for (const auto& a : assertions) {
    const std::string row = std::string("data-status=\"") + a["status"].GetString() +
                            "\"><td><span class=\"st st-" + a["status"].GetString() + "\">" +
                            a["status"].GetString() + "</span></td><td><code>" +
                            html_escaped(a["text"].GetString()) + "</code>";
    CHECK_MESSAGE(dom.find(row) != std::string::npos, a["text"].GetString());
  }

  // The orders tail lies inside the trigger band: every point of the orders p95 above
  // 800 ms is drawn within the band (half a bin of slack for the bin's middle).
  const std::string routes = svg_by_id(dom, "chart-latency-routes");
  const double x_end = std::atof(attr(routes, "data-x-end").c_str());
  const double y_max = std::atof(attr(routes, "data-y-max").c_str());
  double left = 0, top = 0, right = 0, bottom = 0;
  REQUIRE(std::sscanf(attr(routes, "data-plot").c_str(), "%lf %lf %lf %lf", &left, &top, &right,
                      &bottom) == 4);
  const size_t band = routes.find("data-phase=\"trigger\"><rect ");
  REQUIRE(band != std::string::npos);
  const std::string rect = routes.substr(band, routes.find('>', band + 24) - band);
  const double band_x = std::atof(attr(rect, "x").c_str());
  const double band_w = std::atof(attr(rect, "width").c_str());
  const auto seconds = [&](double px) { return (px - left) / (right - left) * x_end; };
  const double trigger_start = seconds(band_x), trigger_end = seconds(band_x + band_w);
  const size_t orders = routes.find("data-series=\"orders\" d=\"");
  REQUIRE(orders != std::string::npos);
  const std::string d = attr(routes.substr(orders - 1), "d");
  const std::regex point("[ML]([0-9.]+) ([0-9.]+)");
  int tail_points = 0;
  for (auto it = std::sregex_iterator(d.begin(), d.end(), point); it != std::sregex_iterator();
       ++it) {
    const double t = seconds(std::atof((*it)[1].str().c_str()));
    const double ms = (bottom - std::atof((*it)[2].str().c_str())) / (bottom - top) * y_max;
    if (ms <= 800) continue;
    ++tail_points;
    CHECK_MESSAGE(t >= trigger_start - 0.5, "tail at " << t << "s, trigger from " << trigger_start);
    CHECK_MESSAGE(t <= trigger_end + 0.5, "tail at " << t << "s, trigger to " << trigger_end);
  }
  CHECK(tail_points > 0);

  // The screenshot, for people.
  const std::string png =
      std::string(FAULTLINE_BINARY_DIR) + "/tests/browser/latency-tail-report.png";
  fs::remove(png);
  const Rendered shot =
      chromium("file://" + html_path,
               {"--screenshot=" + png, "--window-size=1400,2400", "--hide-scrollbars"}, dir);
  CHECK(shot.exit_code == 0);
  const auto bytes = read_whole_file(png);
  REQUIRE(bytes.has_value());
  CHECK(bytes->size() > 10'000);
  CHECK(bytes->substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
}
