#include "http/request_json.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>

namespace faultline::demo {

namespace {

Response field_problem(const Request& request, const char* name, const std::string& detail,
                       bool missing) {
  return problem_response(request, 400, missing ? "missing-field" : "invalid-field",
                          missing ? "Missing field" : "Invalid field", detail, {{"field", name}});
}

}  // namespace

std::optional<Response> parse_json_object(const Request& request, rapidjson::Document* doc) {
  doc->Parse(request.body.data(), request.body.size());
  if (doc->HasParseError())
    return problem_response(request, 400, "bad-json", "Malformed JSON",
                            "the body is not valid JSON: " +
                                std::string(rapidjson::GetParseError_En(doc->GetParseError())) +
                                " (at offset " + std::to_string(doc->GetErrorOffset()) + ")");
  if (!doc->IsObject())
    return problem_response(request, 400, "bad-json", "Malformed JSON",
                            "the body must be a JSON object");
  return std::nullopt;
}

std::optional<std::string> id_field(const Request& request, const rapidjson::Document& doc,
                                    const char* name, bool required, Response* problem) {
  auto it = doc.FindMember(name);
  if (it == doc.MemberEnd()) {
    if (required)
      *problem =
          field_problem(request, name, std::string("field '") + name + "' is required", true);
    else
      return std::string();
    return std::nullopt;
  }
  const auto& v = it->value;
  if (v.IsString() && v.GetStringLength() > 0 && v.GetStringLength() <= 64)
    return std::string(v.GetString(), v.GetStringLength());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  *problem = field_problem(request, name,
                           std::string("field '") + name +
                               "' must be a non-empty string (at most 64 characters) or a "
                               "non-negative integer",
                           false);
  return std::nullopt;
}

std::optional<double> amount_field(const Request& request, const rapidjson::Document& doc,
                                   const char* name, Response* problem) {
  auto it = doc.FindMember(name);
  if (it == doc.MemberEnd()) {
    *problem = field_problem(request, name, std::string("field '") + name + "' is required", true);
    return std::nullopt;
  }
  if (!it->value.IsNumber() || !(it->value.GetDouble() > 0) || it->value.GetDouble() > 1e9 ||
      !std::isfinite(it->value.GetDouble())) {
    *problem = field_problem(
        request, name, std::string("field '") + name + "' must be a number in (0, 1e9]", false);
    return std::nullopt;
  }
  return it->value.GetDouble();
}

std::string json_quote(const std::string& text) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(text);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace faultline::demo
