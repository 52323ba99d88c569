#include "report_schema.h"

#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace faultline::testing {

namespace {

// Each schema is parsed once and kept for the life of the test process.
const rapidjson::SchemaDocument& schema_document(const std::string& schema_file) {
  struct Loaded {
    rapidjson::Document doc;
    std::unique_ptr<rapidjson::SchemaDocument> schema;
  };
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Loaded>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[schema_file];
  if (!slot) {
    std::ifstream in(std::string(FAULTLINE_SOURCE_DIR) + "/schemas/" + schema_file);
    std::stringstream ss;
    ss << in.rdbuf();
    auto loaded = std::make_unique<Loaded>();
    loaded->doc.Parse(ss.str().c_str());
    if (!in || loaded->doc.HasParseError())
      throw std::runtime_error(schema_file + " is missing or not JSON");
    loaded->schema = std::make_unique<rapidjson::SchemaDocument>(loaded->doc);
    slot = std::move(loaded);
  }
  return *slot->schema;
}

}  // namespace

std::string schema_problem(const std::string& schema_file, const std::string& json) {
  const rapidjson::SchemaDocument& schema = schema_document(schema_file);
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  if (doc.HasParseError()) return "not JSON";
  rapidjson::SchemaValidator validator(schema);
  if (doc.Accept(validator)) return "";
  rapidjson::StringBuffer where;
  validator.GetInvalidDocumentPointer().StringifyUriFragment(where);
  return std::string(validator.GetInvalidSchemaKeyword()) + " at " + where.GetString();
}

std::string report_schema_problem(const std::string& json) {
  return schema_problem("report.schema.json", json);
}

}  // namespace faultline::testing
