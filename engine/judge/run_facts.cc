#include "judge/run_facts.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <unordered_map>

#include <rapidjson/pointer.h>

#include "common/json_parse.h"

namespace faultline::judge {

namespace {

void add_example(IdSet& set, const std::string& id) {
  ++set.count;
  if (set.examples.size() < IdSet::kMaxExamples) set.examples.push_back(id);
}

bool id_text(const rapidjson::Value& v, std::string* out) {
  char buf[32];
  if (v.IsString()) {
    out->assign(v.GetString(), v.GetStringLength());
  } else if (v.IsInt64()) {
    out->assign(buf, std::to_chars(buf, buf + sizeof buf, v.GetInt64()).ptr);
  } else if (v.IsUint64()) {
    out->assign(buf, std::to_chars(buf, buf + sizeof buf, v.GetUint64()).ptr);
  } else {
    return false;
  }
  return true;
}

}  // namespace

IdHistory compute_id_history(std::vector<std::pair<uint64_t, std::string>> acknowledged,
                             const std::vector<std::string>& applied) {
  std::stable_sort(acknowledged.begin(), acknowledged.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  IdHistory h;
  std::unordered_map<std::string, int64_t> times_applied;
  times_applied.reserve(applied.size());
  for (const auto& id : applied) ++times_applied[id];
  h.applied = static_cast<int64_t>(applied.size());

  std::set<std::string> acked;
  for (const auto& [seq, id] : acknowledged) {
    if (!acked.insert(id).second) continue;
    if (times_applied.find(id) == times_applied.end()) add_example(h.lost, id);
  }
  h.acknowledged = static_cast<int64_t>(acked.size());

  std::set<std::string> seen;
  for (const auto& id : applied) {
    if (!seen.insert(id).second) continue;  // each id once, at its first listing
    if (times_applied[id] > 1) add_example(h.duplicated, id);
    if (acked.count(id) == 0) add_example(h.unexpected, id);
  }
  return h;
}

bool applied_ids_from_json(const std::string& json, const std::string& pointer,
                           std::vector<std::string>* ids, std::string* error) {
  rapidjson::Document doc;
  JsonParseError parse_error;
  if (!parse_json(json, &doc, &parse_error)) {
    *error = "the output is not JSON: " + parse_error.describe();
    return false;
  }
  const rapidjson::Pointer p(pointer.c_str(), pointer.size());
  const rapidjson::Value* v = p.IsValid() ? p.Get(doc) : nullptr;
  if (v == nullptr) {
    *error = "the output has nothing at applied_ids " + pointer;
    return false;
  }
  if (!v->IsArray()) {
    *error = "applied_ids " + pointer + " is not an array";
    return false;
  }
  ids->clear();
  ids->reserve(v->Size());
  std::string id;
  for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
    if (!id_text((*v)[i], &id)) {
      *error =
          "applied_ids " + pointer + "/" + std::to_string(i) + " is not a string or a whole number";
      return false;
    }
    ids->push_back(id);
  }
  return true;
}

Observed answer_run_fact(const RunFacts& facts, const dsl::RunFactQuery& query) {
  Observed o;
  if (query.source == "history") {
    if (!facts.history) {
      o.note = facts.no_history.empty() ? "no id history was recorded" : facts.no_history;
      return o;
    }
    const IdHistory& h = *facts.history;
    o.sample_count = h.acknowledged + h.applied;
    if (query.name == "lost") o.value = static_cast<double>(h.lost.count);
    if (query.name == "duplicated") o.value = static_cast<double>(h.duplicated.count);
    if (query.name == "unexpected") o.value = static_cast<double>(h.unexpected.count);
    if (query.name == "acknowledged") o.value = static_cast<double>(h.acknowledged);
    if (query.name == "applied") o.value = static_cast<double>(h.applied);
    if (query.name == "ack_missing") o.value = static_cast<double>(h.ack_missing);
    if (!o.value) o.note = "history has no figure '" + query.name + "'";
    return o;
  }
  // verify.<hook>("/pointer")
  const auto it = facts.verify.find(query.name);
  if (it == facts.verify.end()) {
    o.note = "verify hook '" + query.name + "' left no output";
    return o;
  }
  const VerifyOutput& out = it->second;
  if (!out.ok) {
    o.note = "verify hook '" + query.name + "' failed: " + out.error;
    return o;
  }
  rapidjson::Document doc;
  JsonParseError parse_error;
  if (!parse_json(out.output, &doc, &parse_error)) {
    o.note =
        "the output of verify hook '" + query.name + "' is not JSON: " + parse_error.describe();
    return o;
  }
  const rapidjson::Pointer p(query.pointer.c_str(), query.pointer.size());
  const rapidjson::Value* v = p.IsValid() ? p.Get(doc) : nullptr;
  if (v == nullptr) {
    o.note = "the output of verify hook '" + query.name + "' has nothing at " + query.pointer;
  } else if (v->IsNumber()) {
    o.value = v->GetDouble();
    o.sample_count = 1;
  } else if (v->IsArray()) {
    o.value = static_cast<double>(v->Size());  // an array reads as its length
    o.sample_count = 1;
  } else {
    o.note = "the output of verify hook '" + query.name + "' at " + query.pointer +
             " is not a number or an array";
  }
  return o;
}

}  // namespace faultline::judge
