#include "report_schema.h"

#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace faultline::testing {

std::string report_schema_problem(const std::string& json) {
  static const rapidjson::SchemaDocument* schema = [] {
    std::ifstream in(std::string(FAULTLINE_SOURCE_DIR) + "/schemas/report.schema.json");
    std::stringstream ss;
    ss << in.rdbuf();
    static rapidjson::Document doc;
    doc.Parse(ss.str().c_str());
    if (doc.HasParseError()) throw std::runtime_error("report.schema.json is not JSON");
    return new rapidjson::SchemaDocument(doc);
  }();
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  if (doc.HasParseError()) return "not JSON";
  rapidjson::SchemaValidator validator(*schema);
  if (doc.Accept(validator)) return "";
  rapidjson::StringBuffer where;
  validator.GetInvalidDocumentPointer().StringifyUriFragment(where);
  return std::string(validator.GetInvalidSchemaKeyword()) + " at " + where.GetString();
}

}  // namespace faultline::testing
