// Fuzzes reading an artifact (recorded/recorded_run.h parse_artifact), the first thing judge,
// compare and replay do with any file a user names, and the JSON parser behind it
// (common/json_parse.h), with RapidJSON's own iterative parser as the oracle: the two agree on
// every document of at most kMaxJsonDepth levels (same values, same error and offset), and
// parse_json refuses exactly the deeper ones. Every problem with an artifact is a UsageError
// that starts with its path.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/json_parse.h"
#include "recorded/recorded_run.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Nesting depth of a DOM, without recursion (the oracle's DOM may be a million deep).
int depth_of(const rapidjson::Value& root) {
  int deepest = 0;
  std::vector<std::pair<const rapidjson::Value*, int>> todo{{&root, 0}};
  while (!todo.empty()) {
    const auto [v, d] = todo.back();
    todo.pop_back();
    if (v->IsArray()) {
      deepest = std::max(deepest, d + 1);
      for (const auto& e : v->GetArray()) todo.emplace_back(&e, d + 1);
    } else if (v->IsObject()) {
      deepest = std::max(deepest, d + 1);
      for (auto m = v->MemberBegin(); m != v->MemberEnd(); ++m) todo.emplace_back(&m->value, d + 1);
    }
  }
  return deepest;
}

// The two DOMs hold the same values in the same order (RapidJSON's operator== looks members
// up by name, which mismatches objects with a duplicate key), without recursion.
bool same_dom(const rapidjson::Value& a_root, const rapidjson::Value& b_root) {
  std::vector<std::pair<const rapidjson::Value*, const rapidjson::Value*>> todo{{&a_root, &b_root}};
  while (!todo.empty()) {
    const auto [a, b] = todo.back();
    todo.pop_back();
    if (a->GetType() != b->GetType()) return false;
    if (a->IsNumber()) {
      if (a->IsInt64() != b->IsInt64() || a->IsUint64() != b->IsUint64() ||
          a->IsDouble() != b->IsDouble())
        return false;
      if (a->IsDouble()) {
        const double x = a->GetDouble(), y = b->GetDouble();
        if (std::memcmp(&x, &y, sizeof x) != 0) return false;
      } else if (a->IsInt64() ? a->GetInt64() != b->GetInt64() : a->GetUint64() != b->GetUint64()) {
        return false;
      }
    } else if (a->IsString()) {
      if (std::string_view(a->GetString(), a->GetStringLength()) !=
          std::string_view(b->GetString(), b->GetStringLength()))
        return false;
    } else if (a->IsArray()) {
      if (a->Size() != b->Size()) return false;
      for (rapidjson::SizeType i = 0; i < a->Size(); ++i) todo.emplace_back(&(*a)[i], &(*b)[i]);
    } else if (a->IsObject()) {
      if (a->MemberCount() != b->MemberCount()) return false;
      for (auto m = a->MemberBegin(), n = b->MemberBegin(); m != a->MemberEnd(); ++m, ++n) {
        todo.emplace_back(&m->name, &n->name);
        todo.emplace_back(&m->value, &n->value);
      }
    } else if (a->IsBool() && a->GetBool() != b->GetBool()) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  rapidjson::Document ours, theirs;
  faultline::JsonParseError error;
  const bool ok = faultline::parse_json(text, &ours, &error);
  theirs.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (ok) {
    check(!theirs.HasParseError());
    check(depth_of(ours) <= faultline::kMaxJsonDepth);
    check(same_dom(ours, theirs));
  } else if (error.too_deep) {
    check(ours.IsNull());
    check(theirs.HasParseError() ? theirs.GetErrorOffset() >= error.offset
                                 : depth_of(theirs) > faultline::kMaxJsonDepth);
  } else {
    check(ours.IsNull());
    check(theirs.HasParseError());
    check(theirs.GetErrorOffset() == error.offset);
    check(!error.message.empty());
  }

  const std::string path = "/fuzz/incident-x-20261122T000000Z.json";
  try {
    const faultline::RecordedRun run = faultline::parse_artifact(text, path);
    check(ok);
    check(!run.bundle_dir.empty() && run.has_artifact);
    (void)faultline::cut_short_reason(run);
  } catch (const faultline::UsageError& e) {
    check(std::string_view(e.what()).substr(0, path.size()) == path);
  }
  return 0;
}
