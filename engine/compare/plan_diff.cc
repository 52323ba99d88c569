#include "compare/plan_diff.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "common/json_parse.h"
#include "plan/plan_json.h"

namespace faultline::compare {

namespace {

std::string json_text(const rapidjson::Value* v) {
  if (v == nullptr) return "(absent)";
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v->Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

std::string member_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

void diff(const std::string& path, const rapidjson::Value* a, const rapidjson::Value* b,
          std::vector<PlanDifference>& out) {
  if (a != nullptr && b != nullptr && *a == *b) return;
  if (a != nullptr && b != nullptr && a->IsObject() && b->IsObject()) {
    // Canonical plans have the same keys in the same order; walk a's, then any only b has.
    for (auto m = a->MemberBegin(); m != a->MemberEnd(); ++m) {
      const auto it = b->FindMember(m->name);
      diff(member_path(path, m->name.GetString()), &m->value,
           it == b->MemberEnd() ? nullptr : &it->value, out);
    }
    for (auto m = b->MemberBegin(); m != b->MemberEnd(); ++m)
      if (!a->HasMember(m->name))
        diff(member_path(path, m->name.GetString()), nullptr, &m->value, out);
    return;
  }
  if (a != nullptr && b != nullptr && a->IsArray() && b->IsArray()) {
    const rapidjson::SizeType n = std::max(a->Size(), b->Size());
    for (rapidjson::SizeType i = 0; i < n; ++i) {
      diff(path + "[" + std::to_string(i) + "]", i < a->Size() ? &(*a)[i] : nullptr,
           i < b->Size() ? &(*b)[i] : nullptr, out);
    }
    return;
  }
  out.push_back({path, json_text(a), json_text(b)});
}

}  // namespace

std::vector<PlanDifference> diff_plans(const Plan& baseline, const Plan& candidate) {
  std::vector<PlanDifference> out;
  if (baseline.plan_hash == candidate.plan_hash && !baseline.plan_hash.empty()) return out;
  rapidjson::Document a, b;
  const std::string ja = canonical_plan_json(baseline), jb = canonical_plan_json(candidate);
  parse_json(ja, &a);
  parse_json(jb, &b);
  diff("", &a, &b, out);
  return out;
}

}  // namespace faultline::compare
