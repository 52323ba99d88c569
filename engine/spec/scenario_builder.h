// Scenario builder: the loaded, schema-checked JSON DOM of a scenario -> the typed Scenario
// model, plus what the cross-reference checks (scenario_checks.h) need to point at the spec:
// where each name is defined and where it is used. Reports problems a single field shows on its
// own (durations, rates, request lines, generators, template placeholders, duplicate names).
// Values the schema check already reported are skipped, so nothing is reported twice.
#pragma once

#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "spec/diagnostic_sink.h"
#include "spec/json_fields.h"
#include "spec/scenario.h"

namespace faultline {

// Where names are defined and used, by JSON pointer.
struct ScenarioReferences {
  NamedAt target;                     // empty name: not set
  std::vector<NamedAt> profile_uses;  // phases[i].faults[j] strings
  std::vector<NamedAt> profile_definitions;
  std::vector<NamedAt> knob_services;            // service keys of every `knobs:` mapping
  std::vector<NamedAt> process_services;         // process[].service ("api" or "api#1")
  std::vector<NamedAt> proxy_uses;               // proxy[].proxy
  std::vector<NamedAt> exec_names;               // exec[].name
  std::vector<NamedAt> observe_services;         // observe.targets
  std::vector<NamedAt> hook_http_services;       // hooks.*[].http.service
  std::vector<NamedAt> hook_services;            // {svc.port|url|host} in hooks
  NamedAt baseline;                              // tolerance.baseline
  std::vector<std::string> phase_pointers;       // parallel to Scenario::phases
  std::vector<std::string> phase_rate_pointers;  // where each phase's peak rate is written
  std::string max_in_flight_pointer;
  std::string timeout_pointer;
  std::vector<std::string> assertion_pointers;  // parallel to Scenario::assertions
  std::vector<std::string> abort_if_pointers;
  std::vector<std::string> compare_pointers;
};

// REQUIRES: `doc` passed through the schema check reporting to `sink`.
Scenario build_scenario(const rapidjson::Value& doc, DiagnosticSink& sink,
                        ScenarioReferences& refs);

}  // namespace faultline
