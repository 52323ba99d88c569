#include "core/readiness_monitor.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/event_log.h"

namespace faultline::demo {

ReadinessMonitor::ReadinessMonitor(ServiceMetrics& metrics, const StopSignal& stop,
                                   Duration interval)
    : metrics_(metrics), stop_(stop), interval_(interval) {}

ReadinessMonitor::~ReadinessMonitor() {
  stop();
}

void ReadinessMonitor::add_dependency(std::string name, bool required, Probe probe) {
  std::lock_guard<std::mutex> lock(mu_);
  Dependency d;
  d.name = std::move(name);
  d.required = required;
  d.probe = std::move(probe);
  metrics_.dependency_up.with({d.name}).Set(0);
  deps_.push_back(std::move(d));
}

void ReadinessMonitor::check_now() {
  // Probes run without the lock: they take time and ready() must stay cheap meanwhile.
  std::vector<std::pair<std::string, Probe>> probes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& d : deps_) probes.emplace_back(d.name, d.probe);
  }
  std::vector<std::string> errors;
  for (auto& [name, probe] : probes) {
    try {
      errors.push_back(probe());
    } catch (const std::exception& e) {
      errors.push_back(e.what());
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  bool ready = true;
  for (size_t i = 0; i < deps_.size(); ++i) {
    Dependency& d = deps_[i];
    const bool up = errors[i].empty();
    if (d.checked && up != d.up)
      log_event(up ? LogLevel::kInfo : LogLevel::kWarn, "dependency_changed",
                {{"dependency", d.name}, {"up", up ? "true" : "false"}, {"error", errors[i]}});
    d.up = up;
    d.checked = true;
    d.error = errors[i];
    metrics_.dependency_up.with({d.name}).Set(up ? 1 : 0);
    if (d.required && !up) ready = false;
  }
  if (!announced_ || ready != ready_) {
    std::string why;
    for (const auto& d : deps_)
      if (d.required && !d.up) why += (why.empty() ? "" : "; ") + d.name + ": " + d.error;
    log_event(ready ? LogLevel::kInfo : LogLevel::kWarn, "readiness_changed",
              {{"ready", ready ? "true" : "false"}, {"reason", why}});
  }
  announced_ = true;
  ready_ = ready;
  metrics_.ready.Set(ready ? 1 : 0);
}

void ReadinessMonitor::start() {
  thread_ = std::thread([this] {
    while (stop_.wait_for(interval_)) check_now();
  });
}

void ReadinessMonitor::stop() {
  if (thread_.joinable()) thread_.join();
}

bool ReadinessMonitor::ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ready_ && !stop_.stop_requested();
}

std::string ReadinessMonitor::status_json() const {
  std::lock_guard<std::mutex> lock(mu_);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("ready");
  w.Bool(ready_ && !stop_.stop_requested());
  w.Key("dependencies");
  w.StartObject();
  for (const auto& d : deps_) {
    w.Key(d.name.c_str(), static_cast<rapidjson::SizeType>(d.name.size()));
    w.StartObject();
    w.Key("required");
    w.Bool(d.required);
    w.Key("up");
    w.Bool(d.up);
    w.Key("error");
    if (d.up)
      w.Null();
    else
      w.String(d.error);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace faultline::demo
