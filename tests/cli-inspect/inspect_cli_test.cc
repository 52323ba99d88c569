// `faultline inspect` as a user runs it: on an exposition file, on stdin, on a demo service's
// /metrics, with --format json and --stats; and its exit codes on bad input (1 unusable
// answer, 2 usage or a URL that is not loopback, 3 no answer).
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <string>

#include "demo_cluster.h"
#include "inspect_run.h"
#include "loopback_listen.h"
#include "temp_dir.h"

using namespace faultline;
using namespace faultline::testing;

namespace {

const std::string kShop =
    std::string(FAULTLINE_SOURCE_DIR) + "/tests/cli-inspect/fixtures/shop.txt";

const rapidjson::Value* find_family(const rapidjson::Document& d, const std::string& name) {
  for (const auto& f : d["families"].GetArray())
    if (name == f["name"].GetString()) return &f;
  return nullptr;
}

// A loopback port that refuses connections while this object lives: bound, never listening.
struct RefusingPort {
  int port = 0;
  int fd = testing::bind_loopback_unlistened(&port);
  RefusingPort() { REQUIRE(fd >= 0); }
  ~RefusingPort() { ::close(fd); }
};

}  // namespace

TEST_CASE("inspect FILE prints every family with its type, help, series and figures") {
  const Inspected r = run_inspect({kShop});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("http_requests_total  counter, 3 series: 105\n"
                   "  # Requests served, by route and status code.\n") != std::string::npos);
  // Summed by le: 50 @0.1, 190 @0.5, 200 @+Inf (see exposition_summary_test.cc).
  CHECK(r.out.find("http_request_duration_seconds  histogram, 2 series: count 200  sum 42.5  "
                   "p50 0.2429  p90 0.4714  p99 0.5\n") != std::string::npos);
  CHECK(r.out.find("queue_depth  gauge, 1 series: 7\n") != std::string::npos);
  CHECK(r.out.find("3 of 3 families, 14 of 14 samples\n") != std::string::npos);
  CHECK(r.out.find("route=") == std::string::npos);  // no per-series lines without --series
}

TEST_CASE("inspect - reads stdin and prints what it prints for the file") {
  const Inspected from_file = run_inspect({kShop, "--series"});
  const Inspected from_stdin = run_inspect({"-", "--series"}, kShop);
  CHECK(from_stdin.exit_code == 0);
  CHECK(from_stdin.out == from_file.out);
  CHECK(from_stdin.out.find("  http_requests_total{code=\"500\",route=\"/orders\"}  10\n") !=
        std::string::npos);
}

TEST_CASE("--match and --family narrow what is printed, --format json says the same") {
  const Inspected r =
      run_inspect({kShop, "--match", "{route=\"/health\"}", "--format", "json", "--series"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  rapidjson::Document d;
  d.Parse(r.out.c_str());
  REQUIRE(d.IsObject());
  CHECK(d["samples"].GetUint64() == 14);
  REQUIRE(d["families"].Size() == 2);
  const auto* requests = find_family(d, "http_requests_total");
  REQUIRE(requests);
  CHECK((*requests)["value"].GetDouble() == 5);
  CHECK((*requests)["series"].Size() == 1);
  const auto* latency = find_family(d, "http_request_duration_seconds");
  REQUIRE(latency);
  CHECK((*latency)["count"].GetDouble() == 100);
  CHECK((*latency)["quantiles"]["0.5"].GetDouble() == doctest::Approx(0.3));
  CHECK(std::string((*latency)["series"][0]["labels"]["route"].GetString()) == "/health");

  const Inspected one = run_inspect({kShop, "--family", "queue_depth"});
  CHECK(one.exit_code == 0);
  CHECK(one.out.find("queue_depth") != std::string::npos);
  CHECK(one.out.find("http_requests_total") == std::string::npos);
}

TEST_CASE("--stats prints bytes, samples, time and MB/s of the parse to stderr") {
  const Inspected r = run_inspect({kShop, "--stats"});
  CHECK(r.exit_code == 0);
  const std::string size = std::to_string(read_whole_file(kShop)->size());
  const std::regex line("parse: " + size +
                        " bytes, 14 samples, 3 families in [0-9.]+ ms = [0-9.]+ MB/s\n");
  CHECK_MESSAGE(std::regex_search(r.err, line), r.err);
  CHECK(r.out.find("parse:") == std::string::npos);
}

TEST_CASE("a demo service's /metrics: URL without a path reads /metrics") {
  DemoClusterOptions options;
  options.start_worker = false;
  DemoCluster cluster(options);
  for (int i = 0; i < 5; ++i) REQUIRE(http_get(cluster.api_url() + "/users/42").status == 200);
  const Inspected r =
      run_inspect({cluster.api_url(), "--family", "http_request_duration_seconds", "--match",
                   "{route=\"/users/{id}\"}", "--format", "json", "--series"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  rapidjson::Document d;
  d.Parse(r.out.c_str());
  REQUIRE(d.IsObject());
  CHECK(std::string(d["source"].GetString()) == cluster.api_url() + "/metrics");
  REQUIRE(d["families"].Size() == 1);
  const auto& h = d["families"][0];
  CHECK(std::string(h["type"].GetString()) == "histogram");
  CHECK(h["count"].GetDouble() == 5);
  CHECK(h["quantiles"]["0.99"].IsNumber());  // five observations: a finite quantile

  const Inspected text = run_inspect({cluster.api_url() + "/metrics"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("http_requests_total  counter, ") != std::string::npos);

  const Inspected missing = run_inspect({cluster.api_url() + "/no-such-path"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("HTTP 404") != std::string::npos);
}

TEST_CASE("bad input: garbage is 1 with line:col, not loopback is 2, no answer is 3") {
  TempDir dir("inspect-bad");
  const std::string garbage = dir / "garbage.txt";
  std::ofstream(garbage) << "# TYPE x counter\nx{a=\"1\" 3\n";
  const Inspected parse_error = run_inspect({garbage});
  CHECK(parse_error.exit_code == 1);
  CHECK(parse_error.err.find(garbage + ":2:9: ") != std::string::npos);
  CHECK(parse_error.out.empty());

  const Inspected remote = run_inspect({"http://192.0.2.1:9100/metrics"});
  CHECK(remote.exit_code == 2);
  CHECK(remote.err.find("faultline talks only to loopback addresses") != std::string::npos);
  const Inspected remote_prom =
      run_inspect({"--prometheus", "http://192.0.2.1:9090", "--query", "up"});
  CHECK(remote_prom.exit_code == 2);

  RefusingPort closed;
  const std::string url = "http://127.0.0.1:" + std::to_string(closed.port);
  const Inspected refused = run_inspect({url + "/metrics"});
  CHECK(refused.exit_code == 3);
  CHECK(refused.err.find("connection refused") != std::string::npos);
  CHECK(run_inspect({url, "--query", "up"}).exit_code == 3);

  CHECK(run_inspect({dir / "no-such-file.txt"}).exit_code == 2);
  CHECK(run_inspect({}).exit_code == 2);
  CHECK(run_inspect({kShop, "--match", "x{a=b}"}).exit_code == 2);
  CHECK(run_inspect({kShop, "--format", "yaml"}).exit_code == 2);
  CHECK(run_inspect({kShop, "--range", "5m"}).exit_code == 2);
  const Inspected help = run_inspect({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("Examples:") != std::string::npos);
}
