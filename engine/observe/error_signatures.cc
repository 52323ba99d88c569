#include "observe/error_signatures.h"

#include <algorithm>
#include <cctype>

#include "common/json_parse.h"

namespace faultline::observe {

void ErrorSignatures::add(std::string_view signature, std::string_view request_id, uint64_t n) {
  if (n == 0) return;
  if (signature.size() > kMaxSignatureBytes) {
    // Cut on a UTF-8 character boundary so the report stays valid text.
    size_t cut = kMaxSignatureBytes;
    while (cut > 0 && (static_cast<unsigned char>(signature[cut]) & 0xc0) == 0x80) --cut;
    signature = signature.substr(0, cut);
  }
  total_ += n;
  auto it = entries_.find(signature);
  if (it == entries_.end()) {
    // kOther does not take one of the max_distinct places.
    const size_t tracked = entries_.size() - (entries_.count(kOther) ? 1 : 0);
    if (tracked >= max_distinct_) signature = kOther;
    it = entries_.find(signature);
    if (it == entries_.end()) {
      it = entries_.emplace(std::string(signature), Entry{std::string(signature), 0, ""}).first;
      it->second.first_request_id = std::string(request_id);
    }
  }
  it->second.count += n;
}

void ErrorSignatures::merge(const ErrorSignatures& other) {
  for (const auto& [signature, e] : other.entries_) add(signature, e.first_request_id, e.count);
}

std::vector<ErrorSignatures::Entry> ErrorSignatures::most_frequent() const {
  std::vector<Entry> out;
  out.reserve(entries_.size());
  for (const auto& [signature, e] : entries_) out.push_back(e);
  std::stable_sort(out.begin(), out.end(),
                   [](const Entry& a, const Entry& b) { return a.count > b.count; });
  return out;
}

namespace {

std::string clean_member(const rapidjson::Value& v) {
  if (!v.IsString()) return "";
  std::string out(v.GetString(), std::min<size_t>(v.GetStringLength(), kMaxProblemMemberBytes));
  // Cut on a UTF-8 character boundary; no control characters in a one-line signature.
  if (v.GetStringLength() > kMaxProblemMemberBytes)
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xc0) == 0x80) out.pop_back();
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

}  // namespace

std::string problem_of(std::string_view content_type, std::string_view body) {
  std::string type(content_type.substr(0, content_type.find(';')));
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (type != "application/json" && !type.ends_with("+json")) return "";
  rapidjson::Document doc;
  if (body.empty() || !parse_json(body, &doc) || !doc.IsObject()) return "";
  std::string problem_type, title;
  if (const auto m = doc.FindMember("type"); m != doc.MemberEnd())
    problem_type = clean_member(m->value);
  if (const auto m = doc.FindMember("title"); m != doc.MemberEnd()) title = clean_member(m->value);
  if (title.empty()) return problem_type;
  return (problem_type.empty() ? "" : problem_type + " ") + "\"" + title + "\"";
}

std::string error_signature(std::string_view route, int status, std::string_view error_class,
                            std::string_view problem) {
  std::string out(route);
  if (!error_class.empty()) return out + " " + std::string(error_class);
  out += " " + std::to_string(status);
  if (!problem.empty()) out += " " + std::string(problem);
  return out;
}

}  // namespace faultline::observe
