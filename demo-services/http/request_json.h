// Input validation shared by the business endpoints: the body must be a JSON object, fields
// must be present and of the right type. Failures become 400 problems that name the field;
// nothing here ever throws on bad input.
#pragma once

#include <rapidjson/fwd.h>

#include <optional>
#include <string>

#include "http/http_server.h"

namespace faultline::demo {

// Parses request.body into *doc. Returns the 400 problem when it is not a JSON object.
std::optional<Response> parse_json_object(const Request& request, rapidjson::Document* doc);

// An identifier field: a non-empty string of at most 64 characters, or a non-negative integer
// (returned as its decimal text). On failure returns nullopt and sets *problem.
std::optional<std::string> id_field(const Request& request, const rapidjson::Document& doc,
                                    const char* name, bool required, Response* problem);

// A money amount: a JSON number > 0 and <= 1e9.
std::optional<double> amount_field(const Request& request, const rapidjson::Document& doc,
                                   const char* name, Response* problem);

// JSON text for one string (quoted and escaped), for building small bodies by hand.
std::string json_quote(const std::string& text);

}  // namespace faultline::demo
