#include "spec/scenario.h"
#include "spec/environment.h"

namespace faultline {

namespace {

template <typename T>
const T* find_named(const std::vector<T>& items, const std::string& name) {
  for (const auto& item : items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}

}  // namespace

std::string SourceLoc::str() const {
  if (line <= 0) return file;
  std::string out = file + ":" + std::to_string(line);
  if (column > 0) out += ":" + std::to_string(column);
  return out;
}

const PhaseSpec* Scenario::find_phase(const std::string& phase_name) const {
  return find_named(phases, phase_name);
}

const FaultProfile* Scenario::find_profile(const std::string& profile_name) const {
  return find_named(fault_profiles, profile_name);
}

const RouteSpec* Scenario::find_route(const std::string& route_name) const {
  return find_named(traffic.routes, route_name);
}

std::string ObserveSource::matchers_for(const std::string& service_name) const {
  std::string out;
  constexpr std::string_view kPlaceholder = "{service}";
  size_t from = 0;
  for (size_t at; (at = match.find(kPlaceholder, from)) != std::string::npos;
       from = at + kPlaceholder.size())
    out.append(match, from, at - from).append(service_name);
  return out.append(match, from);
}

const ServiceSpec* Environment::find(const std::string& service_name) const {
  return find_named(services, service_name);
}

}  // namespace faultline
