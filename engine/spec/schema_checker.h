// SchemaChecker: checks a JSON document against one of faultline's JSON Schemas (draft-04) and
// reports every violation, in words, at its place. RapidJSON's validator stops at the first
// error and names schema keywords; this walks schema and document together and keeps going, so
// a spec with five mistakes gets five diagnostics, each saying what was expected:
//   phases[1].duration: expected a duration like "30s", got "30 sec"
// Phrases come from the schema itself: a schema's `title` is what is expected, its
// `description` is the hint. RapidJSON's validator still runs after the walk as the reference:
// should it find a violation the walk did not report, that is reported too.
//
// Supported keywords (all the schemas use): $ref (local), type, enum, pattern, minLength,
// minimum, maximum, exclusiveMinimum, exclusiveMaximum, properties, patternProperties,
// additionalProperties, required, items (one schema), minItems, anyOf, oneOf, not (of
// `required` only, e.g. "rate and ramp cannot be used together").
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "spec/diagnostic_sink.h"

namespace faultline {

class SchemaChecker {
 public:
  // Parses the schema text. Throws std::logic_error when it is not valid JSON (the schemas are
  // compiled in; that is a build defect).
  explicit SchemaChecker(std::string_view schema_json);
  ~SchemaChecker();
  SchemaChecker(const SchemaChecker&) = delete;
  SchemaChecker& operator=(const SchemaChecker&) = delete;

  // Reports every violation of `doc` (the document at pointer "") to `sink`.
  void check(const rapidjson::Value& doc, DiagnosticSink& sink) const;

  // RapidJSON's verdict alone (for tests that keep the walk honest).
  bool reference_accepts(const rapidjson::Value& doc) const;

  const rapidjson::Document& schema() const { return schema_; }

 private:
  struct Impl;
  rapidjson::Document schema_;
  std::unique_ptr<Impl> impl_;
};

// The checkers of the two embedded schemas, built once.
const SchemaChecker& scenario_schema_checker();
const SchemaChecker& environment_schema_checker();

}  // namespace faultline
