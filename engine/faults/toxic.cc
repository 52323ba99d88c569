#include "faults/toxic.h"

#include <array>
#include <cmath>
#include <utility>

#include "common/rng.h"

namespace faultline {
namespace {

constexpr std::array<std::pair<ToxicType, std::string_view>, 8> kTypeNames = {{
    {ToxicType::kLatency, "latency"},
    {ToxicType::kBandwidth, "bandwidth"},
    {ToxicType::kTimeout, "timeout"},
    {ToxicType::kResetPeer, "reset_peer"},
    {ToxicType::kSlowClose, "slow_close"},
    {ToxicType::kSlicer, "slicer"},
    {ToxicType::kLimitData, "limit_data"},
    {ToxicType::kDown, "down"},
}};

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':' || c == '/';
}

uint64_t keyed_hash(uint64_t seed, std::string_view prefix, std::string_view toxic_name,
                    uint64_t ordinal) {
  std::string key;
  key.reserve(prefix.size() + toxic_name.size() + 22);
  key.append(prefix).append(toxic_name).push_back('\n');
  key.append(std::to_string(ordinal));
  return mix64(seed ^ fnv1a64(key));
}

}  // namespace

std::string_view toxic_type_name(ToxicType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "?";
}

std::optional<ToxicType> parse_toxic_type(std::string_view name) {
  for (const auto& [t, n] : kTypeNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

std::string_view toxic_direction_name(ToxicDirection direction) {
  return direction == ToxicDirection::kUpstream ? "upstream" : "downstream";
}

std::optional<ToxicDirection> parse_toxic_direction(std::string_view name) {
  if (name == "upstream") return ToxicDirection::kUpstream;
  if (name == "downstream") return ToxicDirection::kDownstream;
  return std::nullopt;
}

std::optional<std::string> toxic_problem(const Toxic& t) {
  if (t.name.empty() || t.name.size() > 128) {
    return "a toxic needs a name of 1 to 128 characters";
  }
  for (char c : t.name) {
    if (!name_char(c)) {
      return "toxic name '" + t.name + "' may hold only letters, digits and _-.:/";
    }
  }
  const std::string what = "toxic '" + t.name + "' (" + std::string(toxic_type_name(t.type)) + ")";
  if (!(t.toxicity >= 0.0 && t.toxicity <= 1.0)) {
    return what + ": toxicity must be between 0 and 1";
  }

  // Every attribute with the types that read it; a value set for another type is an error.
  struct Attribute {
    const char* name;
    int64_t value;
    bool used;
  };
  const ToxicType y = t.type;
  const Attribute attributes[] = {
      {"latency_ms", t.latency_ms, y == ToxicType::kLatency},
      {"jitter_ms", t.jitter_ms, y == ToxicType::kLatency},
      {"rate_kb_per_s", t.rate_kb_per_s, y == ToxicType::kBandwidth},
      {"timeout_ms", t.timeout_ms, y == ToxicType::kTimeout || y == ToxicType::kResetPeer},
      {"bytes", t.bytes, y == ToxicType::kLimitData},
      {"average_size", t.average_size, y == ToxicType::kSlicer},
      {"size_variation", t.size_variation, y == ToxicType::kSlicer},
      {"delay_us", t.delay_us, y == ToxicType::kSlicer},
      {"delay_ms", t.delay_ms, y == ToxicType::kSlowClose},
  };
  // One hour bounds every duration: long enough for any experiment, and far from overflow
  // when converted to nanoseconds.
  constexpr int64_t kMaxMs = 3'600'000;
  for (const Attribute& a : attributes) {
    if (a.value < 0) return what + ": " + a.name + " must not be negative";
    if (!a.used && a.value != 0) {
      return what + ": " + a.name + " does not apply to this type";
    }
  }
  switch (t.type) {
    case ToxicType::kLatency:
      if (t.latency_ms > kMaxMs) return what + ": latency_ms is above one hour";
      if (t.jitter_ms > t.latency_ms) {
        return what + ": jitter_ms (" + std::to_string(t.jitter_ms) +
               ") is larger than latency_ms (" + std::to_string(t.latency_ms) + ")";
      }
      break;
    case ToxicType::kBandwidth:
      if (t.rate_kb_per_s == 0) return what + ": rate_kb_per_s must be above 0";
      if (t.rate_kb_per_s > 100'000'000) return what + ": rate_kb_per_s is above 100 GB/s";
      break;
    case ToxicType::kTimeout:
    case ToxicType::kResetPeer:
      if (t.timeout_ms > kMaxMs) return what + ": timeout_ms is above one hour";
      break;
    case ToxicType::kSlowClose:
      if (t.delay_ms > kMaxMs) return what + ": delay_ms is above one hour";
      break;
    case ToxicType::kSlicer:
      if (t.average_size == 0) return what + ": average_size must be above 0";
      if (t.size_variation >= t.average_size) {
        return what + ": size_variation must be smaller than average_size";
      }
      if (t.delay_us > kMaxMs * 1000) return what + ": delay_us is above one hour";
      break;
    case ToxicType::kLimitData:
      break;
    case ToxicType::kDown:
      if (t.toxicity != 1.0) {
        return what + ": a proxy is down or it is not; toxicity must be 1";
      }
      break;
  }
  return std::nullopt;
}

double toxic_fraction(uint64_t seed, std::string_view toxic_name, uint64_t connection_ordinal) {
  const uint64_t h = keyed_hash(seed, "", toxic_name, connection_ordinal);
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

uint64_t toxic_stream_seed(uint64_t seed, std::string_view toxic_name,
                           uint64_t connection_ordinal) {
  return keyed_hash(seed, "draws\n", toxic_name, connection_ordinal);
}

}  // namespace faultline
