#include "run/push.h"

#include <prometheus/gateway.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstdio>
#include <ctime>
#include <future>
#include <memory>
#include <thread>

#include "common/error.h"
#include "common/file_io.h"
#include "common/json_parse.h"
#include "net/allowlist.h"

namespace faultline {
namespace {

const std::vector<std::string> kLoopback = {"127.0.0.0/8", "::1", "localhost"};

bool is_label_name(const std::string& s) {
  if (s.empty() || s.rfind("__", 0) == 0) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Grouping label values become URL path segments, and prometheus-cpp 1.0.1 does not encode
// them: keep to characters that need no encoding.
bool is_path_safe_value(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

const rapidjson::Value* member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::optional<double> number(const rapidjson::Value& v, const char* name) {
  const rapidjson::Value* m = member(v, name);
  if (!m || !m->IsNumber()) return std::nullopt;
  return m->GetDouble();
}

std::string string_of(const rapidjson::Value& v, const char* name) {
  const rapidjson::Value* m = member(v, name);
  return m && m->IsString() ? std::string(m->GetString(), m->GetStringLength()) : std::string();
}

// "2026-11-30T20:05:22Z" -> seconds since the epoch; nullopt for anything else.
std::optional<double> utc_seconds(const std::string& text) {
  std::tm tm{};
  char z = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) != 7 ||
      z != 'Z')
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm));
}

double verdict_value(const std::string& status) {
  if (status == "pass") return 1;
  if (status == "fail") return 0;
  return -1;  // inconclusive
}

}  // namespace

std::optional<std::string> push_target_problem(const PushTarget& target, bool allow_remote) {
  UrlParts url;
  UrlProblem problem;
  if (!parse_url(target.url, &url, &problem))
    return "--push " + target.url + ": " + problem.message;
  if (url.scheme != "http")
    return "--push " + target.url + ": only http:// is supported (prometheus-cpp push)";
  if (!url.path.empty() && url.path != "/")
    return "--push " + target.url +
           ": give the Pushgateway's base URL without a path (faultline adds /metrics/job/...)";
  if (!allow_remote && !host_allowed(url.host, kLoopback))
    return "--push " + target.url +
           ": the Pushgateway is not on loopback; pass --push-allow-remote to push to " + url.host;
  for (const auto& [name, value] : target.labels) {
    if (!is_label_name(name) || name == "job" || name == "scenario" || name == "instance")
      return "--push-label " + name + "=" + value +
             ": the name must be a Prometheus label name other than job, scenario, instance";
    if (!is_path_safe_value(value))
      return "--push-label " + name + "=" + value +
             ": the value must be non-empty letters, digits and _.:- (it becomes a URL path "
             "segment)";
  }
  return std::nullopt;
}

std::vector<PushSample> push_samples_from_artifact(std::string_view artifact_json,
                                                   std::string* scenario) {
  rapidjson::Document doc;
  JsonParseError error;
  if (!parse_json(artifact_json, &doc, &error))
    throw UsageError("push: the artifact is not JSON: " + error.describe());
  const rapidjson::Value* meta = member(doc, "meta");
  const rapidjson::Value* phases = member(doc, "phases");
  const rapidjson::Value* assertions = member(doc, "assertions");
  if (!meta || !phases || !phases->IsArray() || !assertions || !assertions->IsArray() ||
      !number(doc, "exit_code"))
    throw UsageError("push: not a run artifact (meta, phases, assertions, exit_code expected)");
  *scenario = string_of(*meta, "scenario");
  if (!is_path_safe_value(*scenario))
    throw UsageError("push: the artifact's scenario name '" + *scenario +
                     "' cannot be a Pushgateway grouping label");

  std::vector<PushSample> out;
  out.push_back({"faultline_run_exit_code", {}, *number(doc, "exit_code")});
  out.push_back({"faultline_run_status", {{"status", string_of(doc, "status")}}, 1});
  if (auto end = utc_seconds(string_of(*meta, "ended_at")))
    out.push_back({"faultline_run_end_time_seconds", {}, *end});
  if (auto us = number(*meta, "actual_duration_us"))
    out.push_back({"faultline_run_duration_seconds", {}, *us / 1e6});

  for (const auto& p : phases->GetArray()) {
    const std::string phase = string_of(p, "name");
    const rapidjson::Value* client = member(p, "client");
    if (!client) continue;
    const std::map<std::string, std::string> labels = {{"phase", phase}};
    if (auto v = number(*client, "sent"))
      out.push_back({"faultline_phase_requests_sent", labels, *v});
    if (auto v = number(*client, "error_rate"))
      out.push_back({"faultline_phase_error_ratio", labels, *v});
    if (auto v = number(*client, "achieved_rps"))
      out.push_back({"faultline_phase_achieved_rps", labels, *v});
    if (const rapidjson::Value* lat = member(*client, "latency_ms")) {
      for (const auto& [key, quantile] :
           {std::pair<const char*, const char*>{"p50", "0.5"}, {"p95", "0.95"}, {"p99", "0.99"}}) {
        // Absent when the phase had no latency samples: no series rather than a fake 0.
        if (auto ms = number(*lat, key))
          out.push_back({"faultline_phase_latency_seconds",
                         {{"phase", phase}, {"quantile", quantile}},
                         *ms / 1000.0});
      }
    }
  }
  int index = 0;
  for (const auto& a : assertions->GetArray()) {
    out.push_back({"faultline_assertion_verdict",
                   {{"index", std::to_string(index++)}, {"assertion", string_of(a, "canonical")}},
                   verdict_value(string_of(a, "status"))});
  }
  return out;
}

namespace {

const char* help_of(const std::string& name) {
  if (name == "faultline_run_exit_code") return "faultline run exit code (0 reproduced as claimed)";
  if (name == "faultline_run_status") return "1 for the run's status (label status)";
  if (name == "faultline_run_end_time_seconds") return "when the run ended, Unix seconds";
  if (name == "faultline_run_duration_seconds") return "how long the run took, seconds";
  if (name == "faultline_phase_requests_sent") return "requests sent in the phase";
  if (name == "faultline_phase_error_ratio") return "(5xx + transport errors) / sent, 0..1";
  if (name == "faultline_phase_achieved_rps") return "requests sent per second in the phase";
  if (name == "faultline_phase_latency_seconds") return "client latency quantile in the phase";
  if (name == "faultline_assertion_verdict") return "1 pass, 0 fail, -1 inconclusive";
  return "faultline result";
}

}  // namespace

std::string push_artifact(const std::string& artifact_path, const PushTarget& target) {
  const auto text = read_whole_file(artifact_path);
  if (!text) return "cannot read the artifact " + artifact_path;
  std::string scenario;
  std::vector<PushSample> samples;
  try {
    samples = push_samples_from_artifact(*text, &scenario);
  } catch (const Error& e) {
    return artifact_path + ": " + e.what();
  }
  UrlParts url;
  if (!parse_url(target.url, &url)) return "bad --push URL " + target.url;

  auto registry = std::make_shared<prometheus::Registry>();
  std::map<std::string, prometheus::Family<prometheus::Gauge>*> families;
  for (const auto& s : samples) {
    auto& family = families[s.name];
    if (!family)
      family = &prometheus::BuildGauge().Name(s.name).Help(help_of(s.name)).Register(*registry);
    family->Add(prometheus::Labels(s.labels.begin(), s.labels.end())).Set(s.value);
  }
  prometheus::Labels grouping = {{"scenario", scenario}};
  for (const auto& [k, v] : target.labels) grouping[k] = v;
  const std::string host =
      "http://" + (url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host);
  const std::string port = std::to_string(url.port ? url.port : 80);
  // Everything the push thread uses, owned by the thread too: it may outlive this call.
  struct Job {
    std::shared_ptr<prometheus::Registry> registry;
    std::unique_ptr<prometheus::Gateway> gateway;
    std::promise<int> status;
  };
  auto job = std::make_shared<Job>();
  job->registry = registry;
  job->gateway = std::make_unique<prometheus::Gateway>(host, port, "faultline", grouping);
  job->gateway->RegisterCollectable(registry);
  std::future<int> answer = job->status.get_future();
  std::thread([job] {
    int s = -1;
    try {
      // PUT: replaces the group's series, so a group holds one run's results.
      s = job->gateway->Push();
    } catch (...) {
    }
    job->status.set_value(s);
  }).detach();
  if (answer.wait_for(target.timeout) != std::future_status::ready)
    return "push to " + target.url + " failed: no answer within " +
           std::to_string(target.timeout.count()) + "ms";
  const int status = answer.get();
  if (status >= 200 && status < 300) return "";
  if (status < 0) return "push to " + target.url + " failed: curl error " + std::to_string(-status);
  return "push to " + target.url + " failed: HTTP " + std::to_string(status);
}

}  // namespace faultline
