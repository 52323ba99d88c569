#include "common/json_parse.h"

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace faultline {

namespace {

// Forwards SAX events to the document that is being built, counting open arrays and objects;
// returning false stops the reader (kParseErrorTermination) before the document gets deeper.
class DepthLimitedHandler {
 public:
  DepthLimitedHandler(rapidjson::Document& doc, int max_depth) : doc_(doc), max_depth_(max_depth) {}

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(int64_t i) { return doc_.Int64(i); }
  bool Uint64(uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) { return doc_.Double(d); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) {
    return doc_.RawNumber(s, n, copy);
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return doc_.String(s, n, copy); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return doc_.Key(s, n, copy); }
  bool StartObject() { return open() && doc_.StartObject(); }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    return doc_.EndObject(members);
  }
  bool StartArray() { return open() && doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    return doc_.EndArray(elements);
  }

  bool too_deep() const { return too_deep_; }

 private:
  bool open() {
    if (depth_ == max_depth_) {
      too_deep_ = true;
      return false;
    }
    ++depth_;
    return true;
  }

  rapidjson::Document& doc_;
  const int max_depth_;
  int depth_ = 0;
  bool too_deep_ = false;
};

}  // namespace

std::string JsonParseError::describe() const {
  return message + " (at byte " + std::to_string(offset) + ")";
}

bool parse_json(std::string_view text, rapidjson::Document* doc, JsonParseError* error,
                int max_depth) {
  rapidjson::ParseResult result;
  bool too_deep = false;
  // Populate hands the document to the generator as a SAX handler and keeps the value only
  // when the generator returns true.
  auto generate = [&](rapidjson::Document& target) {
    DepthLimitedHandler handler(target, max_depth);
    rapidjson::MemoryStream bytes(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(bytes);
    rapidjson::Reader reader;
    result = reader.Parse<rapidjson::kParseIterativeFlag>(in, handler);
    too_deep = handler.too_deep();
    return !result.IsError();
  };
  doc->SetNull();
  doc->Populate(generate);
  if (!result.IsError()) return true;
  doc->SetNull();
  if (error) {
    error->too_deep = too_deep;
    error->offset = result.Offset();
    error->message = too_deep ? "nested deeper than " + std::to_string(max_depth) + " levels"
                              : rapidjson::GetParseError_En(result.Code());
  }
  return false;
}

}  // namespace faultline
