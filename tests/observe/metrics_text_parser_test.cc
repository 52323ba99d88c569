#include "observe/metrics_text_parser.h"

#include <doctest/doctest.h>

#include <time.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>

using faultline::observe::Exposition;
using faultline::observe::metric_type_name;
using faultline::observe::MetricsTextError;
using faultline::observe::MetricsTextParser;
using faultline::observe::parse_exposition_float;

namespace {

// A canonical rendering of a parse result, so expectations read like the exposition:
//   family <name> <type> [typed] [help="..."]
//     <sample>{a="1",b="2"} <value> [@<ts>]
std::string render(const Exposition& e) {
  std::ostringstream out;
  for (const auto& f : e.families) {
    out << "family " << f.name << " " << metric_type_name(f.type);
    if (f.has_type_line) out << " typed";
    if (f.has_help_line) out << " help=[" << f.help << "]";
    out << "\n";
    for (const auto& s : f.samples) {
      out << "  " << s.name << "{";
      for (size_t i = 0; i < s.labels.size(); ++i) {
        out << (i ? "," : "") << s.labels[i].name << "=[" << s.labels[i].value << "]";
      }
      out << "} ";
      if (std::isnan(s.value)) {
        out << "NaN";
      } else {
        out.precision(17);
        out << s.value;
      }
      if (s.timestamp_ms) out << " @" << *s.timestamp_ms;
      out << "\n";
    }
  }
  return out.str();
}

std::string parse_render(std::string_view text, bool crlf = true) {
  MetricsTextParser parser(MetricsTextParser::Options{.accept_crlf = crlf});
  return render(parser.parse(text));
}

struct Bad {
  const char* text;
  int line;
  int column;
  const char* message_part;
};

void check_error(const Bad& bad, bool crlf = true) {
  CAPTURE(bad.text);
  MetricsTextParser parser(MetricsTextParser::Options{.accept_crlf = crlf});
  try {
    parser.parse(bad.text);
    FAIL("parsed without error");
  } catch (const MetricsTextError& e) {
    CAPTURE(e.what());
    CHECK(e.line() == bad.line);
    CHECK(e.column() == bad.column);
    CHECK(std::string(e.what()).find(bad.message_part) != std::string::npos);
    CHECK(std::string(e.what()).rfind("line " + std::to_string(bad.line) + ":", 0) == 0);
  }
}

}  // namespace

TEST_CASE("metrics text: families, HELP and TYPE") {
  const char* text =
      "# HELP http_requests_total The total number of HTTP requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
      "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
      "\n"
      "# TYPE queue_depth gauge\n"
      "queue_depth 12\n";
  CHECK(parse_render(text) ==
        "family http_requests_total counter typed help=[The total number of HTTP requests.]\n"
        "  http_requests_total{code=[200],method=[post]} 1027 @1395066363000\n"
        "  http_requests_total{code=[400],method=[post]} 3 @1395066363000\n"
        "family queue_depth gauge typed\n"
        "  queue_depth{} 12\n");
}

TEST_CASE("metrics text: escapes in HELP and label values") {
  // HELP unescapes \\ and \n only; label values also \" ; other pairs stay as written.
  const char* text =
      "# HELP m Two\\nlines, a \\\\ backslash, a \\\" quote and \\t kept\n"
      "m{path=\"C:\\\\dir\",q=\"say \\\"hi\\\"\",nl=\"a\\nb\",t=\"x\\ty\"} 1\n";
  CHECK(parse_render(text) ==
        "family m untyped help=[Two\nlines, a \\ backslash, a \\\" quote and \\t kept]\n"
        "  m{nl=[a\nb],path=[C:\\dir],q=[say \"hi\"],t=[x\\ty]} 1\n");
}

TEST_CASE("metrics text: special and unusual values") {
  const char* text =
      "a NaN\nb +Inf\nc -Inf\nd Inf\ne -infinity\nf nan\ng 1e3\nh -1.5E-3\ni .5\nj 5.\n"
      "k +3\nl -0\nm 1e-400\nn 4.9e-324\no 1.7976931348623157e308\n";
  const Exposition e = MetricsTextParser().parse(text);
  REQUIRE(e.families.size() == 15);
  auto v = [&](size_t i) { return e.families[i].samples.at(0).value; };
  CHECK(std::isnan(v(0)));
  CHECK(v(1) == std::numeric_limits<double>::infinity());
  CHECK(v(2) == -std::numeric_limits<double>::infinity());
  CHECK(v(3) == std::numeric_limits<double>::infinity());
  CHECK(v(4) == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(v(5)));
  CHECK(v(6) == 1000);
  CHECK(v(7) == -0.0015);
  CHECK(v(8) == 0.5);
  CHECK(v(9) == 5);
  CHECK(v(10) == 3);
  CHECK(v(11) == 0);
  CHECK(std::signbit(v(11)));
  CHECK(v(12) == 0);
  CHECK(v(13) == std::numeric_limits<double>::denorm_min());
  CHECK(v(14) == std::numeric_limits<double>::max());
}

TEST_CASE("metrics text: float syntax follows Go's ParseFloat minus hex and underscores") {
  for (const char* good : {"0", "-1", "+1.5", "1e5", "1E+5", "1e-5", ".5", "5.", "00012", "Inf",
                           "+inf", "-Infinity", "INFINITY", "NaN", "nan", "NAN"}) {
    CAPTURE(good);
    CHECK(parse_exposition_float(good).has_value());
  }
  for (const char* bad : {"",      "+",    "-",     ".",      "e5",
                          "1e",    "1e+",  "1.2.3", "0x10",   "0x1p3",
                          "1_000", "+nan", "-NaN",  "infin",  "infinityy",
                          " 1",    "1 ",   "1e400", "-1e400", "1.7976931348623159e308",
                          "1f",    "١"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_exposition_float(bad).has_value());
  }
}

TEST_CASE("metrics text: missing TYPE means untyped, and samples join their family") {
  const char* text =
      "# TYPE rpc_latency_seconds histogram\n"
      "rpc_latency_seconds_bucket{le=\"0.1\"} 3\n"
      "rpc_latency_seconds_bucket{le=\"+Inf\"} 5\n"
      "rpc_latency_seconds_sum 0.7\n"
      "rpc_latency_seconds_count 5\n"
      "# TYPE gc_seconds summary\n"
      "gc_seconds{quantile=\"0.5\"} 0.01\n"
      "gc_seconds{quantile=\"0.99\"} 0.2\n"
      "gc_seconds_sum 4\n"
      "gc_seconds_count 100\n"
      "no_type_total 7\n"
      "no_type_bucket 1\n";
  CHECK(parse_render(text) ==
        "family rpc_latency_seconds histogram typed\n"
        "  rpc_latency_seconds_bucket{le=[0.1]} 3\n"
        "  rpc_latency_seconds_bucket{le=[+Inf]} 5\n"
        "  rpc_latency_seconds_sum{} 0.69999999999999996\n"
        "  rpc_latency_seconds_count{} 5\n"
        "family gc_seconds summary typed\n"
        "  gc_seconds{quantile=[0.5]} 0.01\n"
        "  gc_seconds{quantile=[0.99]} 0.20000000000000001\n"
        "  gc_seconds_sum{} 4\n"
        "  gc_seconds_count{} 100\n"
        "family no_type_total untyped\n"
        "  no_type_total{} 7\n"
        "family no_type_bucket untyped\n"
        "  no_type_bucket{} 1\n");
}

TEST_CASE("metrics text: label set forms") {
  const char* text =
      "a{x=\"1\",} 1\n"         // trailing comma
      "b{} 2\n"                 // empty set
      "c{z=\"1\",a=\"2\"} 3\n"  // sorted on output
      "d{e=\"\",f=\"x\"} 4\n"   // empty value = no label
      "e:sub:name{a=\"1\"}5\n"  // colons in names; value right after the brace
      "f{u=\"snow \xe2\x98\x83\"} 6\n";
  CHECK(parse_render(text) ==
        "family a untyped\n  a{x=[1]} 1\n"
        "family b untyped\n  b{} 2\n"
        "family c untyped\n  c{a=[2],z=[1]} 3\n"
        "family d untyped\n  d{f=[x]} 4\n"
        "family e:sub:name untyped\n  e:sub:name{a=[1]} 5\n"
        "family f untyped\n  f{u=[snow \xe2\x98\x83]} 6\n");
}

TEST_CASE("metrics text: weird whitespace, comments and blank lines") {
  const char* text =
      "   \t\n"
      "  # indented comment\n"
      "#comment without space\n"
      "# EOF\n"
      "# HELPER is not HELP\n"
      "# HELP\n"
      "#\tTYPE\tm\tgauge\n"
      "#   HELP m   two leading spaces stay   \n"
      " \tm \t{ a = \"1\" ,\tb=\"2\" } \t 7 \t 42 \t\n"
      "\n\n";
  CHECK(parse_render(text) ==
        "family m gauge typed help=[  two leading spaces stay   ]\n"
        "  m{a=[1],b=[2]} 7 @42\n");
}

TEST_CASE("metrics text: raw newline in a label value, no final newline, empty input") {
  CHECK(parse_render("m{a=\"x\ny\"} 1\nn 2") ==
        "family m untyped\n  m{a=[x\ny]} 1\nfamily n untyped\n  n{} 2\n");
  CHECK(parse_render("").empty());
  CHECK(parse_render("\n\n# only comments\n").empty());
  // The raw newline counts: the bad line below is line 3.
  check_error({"m{a=\"x\ny\"} 1\nbad value!\n", 3, 5, "invalid value \"value!\""});
}

TEST_CASE("metrics text: repeated series keep the first value") {
  MetricsTextParser parser;
  const Exposition e = parser.parse("m{a=\"1\"} 1\nm{a=\"1\"} 2\nm{a=\"2\"} 3\n");
  CHECK(e.duplicate_samples == 1);
  CHECK(e.sample_count == 2);
  CHECK(render(e) == "family m untyped\n  m{a=[1]} 1\n  m{a=[2]} 3\n");
  // The parser is reusable: the next scrape starts afresh.
  CHECK(parser.parse("m{a=\"1\"} 5\n").duplicate_samples == 0);
}

TEST_CASE("metrics text: a repeated series is found among many, after other names, reused") {
  // 300 series of m (the parser's per-name table grows several times), each followed by one
  // of n; then every 7th series of m again: with its labels in another order, with an empty
  // label (which is dropped, so the series is the same) or with an escape spelling the same
  // value. Each is a repeat: the first value stays.
  auto text = [](int round) {
    std::string body;
    for (int i = 0; i < 300; ++i) {
      body += "m{id=\"" + std::to_string(i) + "\",k=\"v\\\\\"} " +
              std::to_string(round * 1000 + i) + "\n";
      body += "n{id=\"" + std::to_string(i) + "\"} 1\n";
    }
    for (int i = 0; i < 300; i += 7) {
      const std::string id = std::to_string(i);
      if (i % 3 == 0) body += "m{k=\"v\\\\\",id=\"" + id + "\"} -1\n";
      if (i % 3 == 1) body += "m{id=\"" + id + "\",e=\"\",k=\"v\\\\\"} -1\n";
      if (i % 3 == 2) body += "m{id=\"" + id + "\",k=\"v\\\\\"} -1\n";
    }
    body += "m{id=\"0\",k=\"v\"} 7\n";  // another value of k: a new series
    return body;
  };
  MetricsTextParser parser;
  for (int round = 0; round < 2; ++round) {
    CAPTURE(round);
    const Exposition e = parser.parse(text(round));
    CHECK(e.duplicate_samples == 43);  // i = 0, 7, ..., 294
    CHECK(e.sample_count == 601);
    const auto* m = e.find_family("m");
    REQUIRE(m != nullptr);
    REQUIRE(m->samples.size() == 301);
    for (int i = 0; i < 300; ++i) {
      CHECK(m->samples[i].value == round * 1000 + i);
      CHECK(m->samples[i].labels[1].value == "v\\");
    }
    CHECK(m->samples[300].value == 7);
  }
}

TEST_CASE("metrics text: CRLF line ends are accepted unless strict") {
  const char* text = "# HELP m help\r\n# TYPE m counter\r\nm{a=\"1\"} 1 5\r\nm{a=\"2\"} 2\r\n\r\n";
  CHECK(parse_render(text) ==
        "family m counter typed help=[help]\n  m{a=[1]} 1 @5\n  m{a=[2]} 2\n");
  check_error({"m 1\r\n", 1, 3, "invalid value \"1\\r\""}, /*crlf=*/false);
}

TEST_CASE("metrics text: malformed input names the line, column and what was expected") {
  const Bad cases[] = {
      {"ok 1\nm{a=\"1\" b=\"2\"} 1\n", 2, 9, "expected ',' or '}' after the value of label \"a\""},
      {"m{a=\"1\",a=\"2\"} 1\n", 1, 1, "label \"a\" appears twice"},
      {"m{__name__=\"x\"} 1\n", 1, 1, "label __name__ repeats the metric name"},
      {"m 1 2 3\n", 1, 7, "expected end of line after the timestamp, got '3'"},
      {"m abc\n", 1, 3, "invalid value \"abc\""},
      {"m 0x1p3\n", 1, 3, "invalid value"},
      {"m 1_000\n", 1, 3, "invalid value"},
      {"m 1e400\n", 1, 3, "invalid value"},
      {"m -1 -5\n", 1, 6, "expected a timestamp in milliseconds or end of line, got '-'"},
      {"m 1 99999999999999999999\n", 1, 5, "overflows int64"},
      {"m\n", 1, 2, "expected a value after the metric, got end of line"},
      {"m", 1, 2, "expected a value after the metric, got end of input"},
      {"m{a=\"1\"}{b=\"2\"} 1\n", 1, 9, "expected a value after the metric, got '{'"},
      {"m{a=\"1\n\n", 1, 5, "unterminated value of label \"a\""},
      {"m{1a=\"x\"} 1\n", 1, 3, "expected a label name or '}', got '1'"},
      {"m{a:b=\"x\"} 1\n", 1, 4, "expected '=' after label name \"a\", got ':'"},
      {"m{a=x} 1\n", 1, 5, "expected '\"' to open the value of label \"a\", got 'x'"},
      {"m{a=\"1\",,} 1\n", 1, 9, "expected a label name or '}', got ','"},
      {"m{a=\"1\"\n} 1\n", 1, 8,
       "expected ',' or '}' after the value of label \"a\", got end of line"},
      {"{a=\"1\"} 1\n", 1, 1, "expected a metric name, '#' or end of line, got '{'"},
      {"1m 1\n", 1, 1, "expected a metric name"},
      {"m{a=\"\\\n\"} 1\n", 1, 6, "expected a character after '\\'"},
      {"m{a=\"\xff\"} 1\n", 1, 5, "not valid UTF-8"},
      {"m{a=\"\xed\xa0\x80\"} 1\n", 1, 5, "not valid UTF-8"},  // a surrogate
      {"m{a=\"x\\\xff\"} 1\n", 1, 5, "not valid UTF-8"},       // escaped, still checked
      {"# HELP m \xc0\xaf\n", 1, 9, "HELP text is not valid UTF-8"},
      {"# HELP \n", 1, 8, "expected a metric name after # HELP, got end of line"},
      {"# TYPE 9m counter\n", 1, 8, "expected a metric name after # TYPE, got '9'"},
      {"# TYPE m{ counter\n", 1, 9, "expected a space after the metric name in # TYPE, got '{'"},
      {"# TYPE m foo\n", 1, 9, "unknown metric type \"foo\""},
      {"# TYPE m counter \n", 1, 9, "unknown metric type \"counter \""},
      {"# TYPE m  counter\n", 1, 9, "unknown metric type \" counter\""},
      {"# TYPE m counter\n# TYPE m gauge\n", 2, 8, "second TYPE line for m says gauge"},
      {"m 1\n# TYPE m counter\n", 2, 8, "TYPE line for m after its samples"},
      {"h_bucket{le=\"1\"} 1\n# TYPE h histogram\n", 2, 8, "after its samples (h_bucket)"},
      {"m 1\n\x01 2\n", 2, 1, "got byte 0x01"},
  };
  for (const Bad& bad : cases) check_error(bad);
}

TEST_CASE("metrics text: a family declared by HELP keeps its samples when a parent TYPE follows") {
  // Found by fuzz/metrics_text: `s_count` declared by its own HELP line is a family of its own,
  // before or after `# TYPE s summary`, so both orders parse alike (and the canonical form of
  // one reads back).
  const char* before = "# HELP s_count c\n# TYPE s summary\ns_count 3\ns_sum 1\n";
  const char* after = "# HELP s_count c\ns_count 3\n# TYPE s summary\ns_sum 1\n";
  CHECK(parse_render(before) == parse_render(after));
  CHECK(parse_render(after) ==
        "family s_count untyped help=[c]\n  s_count{} 3\nfamily s summary typed\n  s_sum{} 1\n");
  // Without HELP the samples implied the family, and a later TYPE stays an error.
  check_error({"s_count 3\n# TYPE s summary\n", 2, 8, "after its samples (s_count)"});
}

TEST_CASE("metrics text: a repeated TYPE with the same type and a repeated HELP are fine") {
  CHECK(parse_render("# TYPE m counter\n# HELP m a\n# TYPE m counter\n# HELP m b\nm 1\n") ==
        "family m counter typed help=[b]\n  m{} 1\n");
}

TEST_CASE("metrics text: parse cost of a 3000-series scrape (thread CPU time, reported only)") {
  // Shaped like a service's /metrics: latency histograms by route, method and code (12
  // buckets each, plus _sum and _count), request counters, and a few gauges.
  std::string body;
  body += "# HELP http_request_duration_seconds Request latency.\n";
  body += "# TYPE http_request_duration_seconds histogram\n";
  const char* les[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                       "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};
  size_t series = 0;
  for (int route = 0; route < 40; ++route) {
    for (const char* method : {"GET", "POST"}) {
      for (const char* code : {"200", "500"}) {
        const std::string labels = "method=\"" + std::string(method) + "\",route=\"/api/v1/r" +
                                   std::to_string(route) + "\",code=\"" + code + "\"";
        for (const char* le : les) {
          body += "http_request_duration_seconds_bucket{" + labels + ",le=\"" + le + "\"} " +
                  std::to_string(1000 + route * 37) + "\n";
          ++series;
        }
        body += "http_request_duration_seconds_sum{" + labels + "} 1234.5678\n";
        body += "http_request_duration_seconds_count{" + labels + "} 98765\n";
        series += 2;
      }
    }
  }
  body += "# TYPE http_requests_total counter\n";
  while (series < 3000) {
    body += "http_requests_total{route=\"/api/v1/r" + std::to_string(series) +
            "\",code=\"200\"} 1.5e+06\n";
    ++series;
  }
  MetricsTextParser parser;
  auto cpu_seconds = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  constexpr int kRounds = 200;
  size_t samples = 0;
  const double t0 = cpu_seconds();
  for (int i = 0; i < kRounds; ++i) samples += parser.parse(body).sample_count;
  const double per_scrape = (cpu_seconds() - t0) / kRounds;
  CHECK(samples == kRounds * 3000);
  MESSAGE("metrics text: " << body.size() / 1024 << " KiB, 3000 series: " << per_scrape * 1e3
                           << " ms CPU per scrape, " << body.size() / per_scrape / 1e6 << " MB/s, "
                           << per_scrape / 3000 * 1e9 << " ns per series");
}
