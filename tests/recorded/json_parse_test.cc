// common/json_parse.h: the one parser for JSON from outside. It must survive any nesting (the
// default RapidJSON parser recurses per level and overflows the stack at about 10^5), refuse
// more than kMaxJsonDepth levels with a message, and read numbers exactly as Document::Parse
// does (a plan read back must hash as before).
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "common/json_parse.h"

using namespace faultline;

namespace {

std::string nested_arrays(size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string nested_objects(size_t depth) {
  std::string s;
  for (size_t i = 0; i < depth; ++i) s += "{\"a\":";
  s += "1";
  s += std::string(depth, '}');
  return s;
}

}  // namespace

TEST_CASE("json: nesting up to the limit parses, one level more is refused with a message") {
  rapidjson::Document doc;
  CHECK(parse_json(nested_arrays(kMaxJsonDepth), &doc));
  CHECK(doc.IsArray());
  CHECK(parse_json(nested_objects(kMaxJsonDepth), &doc));
  CHECK(doc.IsObject());

  for (const std::string& text :
       {nested_arrays(kMaxJsonDepth + 1), nested_objects(kMaxJsonDepth + 1)}) {
    JsonParseError error;
    CHECK_FALSE(parse_json(text, &doc, &error));
    CHECK(doc.IsNull());
    CHECK(error.too_deep);
    CHECK(error.message == "nested deeper than 256 levels");
    CHECK(error.describe().find("nested deeper than 256 levels (at byte ") == 0);
  }
}

TEST_CASE("json: a million open brackets are refused, not a stack overflow") {
  rapidjson::Document doc;
  for (const std::string& text : {std::string(1'000'000, '['), nested_arrays(1'000'000),
                                  std::string(1'000'000 / 5, ' ') + nested_objects(200'000),
                                  "{\"meta\":" + std::string(1'000'000, '[')}) {
    JsonParseError error;
    CHECK_FALSE(parse_json(text, &doc, &error));
    CHECK(error.too_deep);
    CHECK(error.offset < 1'000'000);
  }
}

TEST_CASE("json: a custom depth limit counts arrays and objects alike") {
  rapidjson::Document doc;
  CHECK(parse_json(R"({"a":[{"b":[]}]})", &doc, nullptr, 4));
  JsonParseError error;
  CHECK_FALSE(parse_json(R"({"a":[{"b":[[]]}]})", &doc, &error, 4));
  CHECK(error.message == "nested deeper than 4 levels");
  // Closing brackets give levels back: wide documents are not deep.
  CHECK(parse_json("[" + std::string(10'000, ' ') + "[],[],[[]],[[[]]]]", &doc, nullptr, 4));
}

TEST_CASE("json: syntax errors say what and where, and leave the document null") {
  rapidjson::Document doc;
  REQUIRE(parse_json(R"({"kept":1})", &doc));
  JsonParseError error;
  CHECK_FALSE(parse_json(R"({"a":1,})", &doc, &error));
  CHECK(doc.IsNull());
  CHECK_FALSE(error.too_deep);
  CHECK(error.offset == 7);
  CHECK(error.message.find("Missing a name") != std::string::npos);
  CHECK_FALSE(parse_json("", &doc, &error));
  CHECK(error.message.find("empty") != std::string::npos);
  CHECK_FALSE(parse_json("[1] [2]", &doc, &error));
  CHECK(error.message.find("root") != std::string::npos);
  // Text that is not NUL-terminated where the view ends is read only up to its end.
  const std::string text = "[1,2]garbage";
  CHECK(parse_json(std::string_view(text).substr(0, 5), &doc));
  CHECK(doc.Size() == 2);
}

TEST_CASE("json: numbers, strings and keys come out exactly as Document::Parse gives them") {
  const std::string text =
      R"({"d":[0.1,1e-7,123456.789,1.7976931348623157e308,5e-324,2.5,-0.0,3.141592653589793],)"
      R"("i":[-9223372036854775808,18446744073709551615,4294967296,-1,0],)"
      R"("s":"a\u00e9\n\"\\","nested":{"t":true,"f":false,"n":null}})";
  rapidjson::Document ours, theirs;
  REQUIRE(parse_json(text, &ours));
  theirs.Parse(text.c_str(), text.size());
  REQUIRE_FALSE(theirs.HasParseError());
  CHECK(ours == theirs);
  for (rapidjson::SizeType i = 0; i < ours["d"].Size(); ++i) {
    const double a = ours["d"][i].GetDouble(), b = theirs["d"][i].GetDouble();
    CHECK(std::memcmp(&a, &b, sizeof a) == 0);
  }
  CHECK(ours["i"][0].GetInt64() == INT64_MIN);
  CHECK(ours["i"][1].GetUint64() == UINT64_MAX);
  CHECK(std::string(ours["s"].GetString(), ours["s"].GetStringLength()) == "a\xc3\xa9\n\"\\");
}
