// Toxic: one impairment a TcpProxy (tcp_proxy.h) applies to the connections it forwards, with
// Toxiproxy's toxic set as the reference (docs/fault-proxy.md compares the two).
//
// A toxic has a name (unique within a proxy), a type, a direction and a toxicity:
//   - direction: kUpstream acts on bytes going from the client to the proxied service,
//     kDownstream on bytes coming back from it (Toxiproxy's words and default).
//   - toxicity in [0, 1]: the fraction of connections the toxic affects. Which ones is decided
//     deterministically (toxic_fraction below), so the same connections are hit in every run
//     with the same seed. Toxiproxy draws this at random and ignores its seed.
// Only the attributes of the toxic's type are read; the others must stay 0 (toxic_problem
// says so), so a spec cannot carry a setting that silently does nothing.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace faultline {

enum class ToxicType : uint8_t {
  kLatency,    // every chunk waits latency_ms +/- jitter_ms (uniform, seeded) before it is sent
  kBandwidth,  // at most rate_kb_per_s kilobytes (1000 bytes) per second
  kTimeout,    // no data passes; the connection is closed after timeout_ms (0: held open)
  kResetPeer,  // on the first data, wait timeout_ms, then reset both sides (TCP RST)
  kSlowClose,  // a FIN (end of stream) is passed on delay_ms late
  kSlicer,     // chunks are split into average_size +/- size_variation bytes, delay_us apart
  kLimitData,  // the connection is closed once `bytes` bytes have passed
  kDown,       // the whole proxy: new connections are refused, existing ones are closed
};

enum class ToxicDirection : uint8_t { kUpstream, kDownstream };

// "latency", "bandwidth", "timeout", "reset_peer", "slow_close", "slicer", "limit_data", "down".
std::string_view toxic_type_name(ToxicType type);
std::optional<ToxicType> parse_toxic_type(std::string_view name);
// "upstream", "downstream".
std::string_view toxic_direction_name(ToxicDirection direction);
std::optional<ToxicDirection> parse_toxic_direction(std::string_view name);

struct Toxic {
  std::string name;  // unique within a proxy; also the key of the deterministic targeting
  ToxicType type = ToxicType::kLatency;
  ToxicDirection direction = ToxicDirection::kDownstream;
  double toxicity = 1.0;  // fraction of connections affected, 0..1

  // Attributes; only those of `type` may be non-zero.
  int64_t latency_ms = 0;      // latency
  int64_t jitter_ms = 0;       // latency; REQUIRES: jitter_ms <= latency_ms
  int64_t rate_kb_per_s = 0;   // bandwidth; kilobytes of 1000 bytes per second, > 0
  int64_t timeout_ms = 0;      // timeout (0: never closes), reset_peer (0: at once)
  int64_t bytes = 0;           // limit_data
  int64_t average_size = 0;    // slicer, bytes, > 0
  int64_t size_variation = 0;  // slicer, bytes; REQUIRES: size_variation < average_size
  int64_t delay_us = 0;        // slicer: pause between two slices
  int64_t delay_ms = 0;        // slow_close

  friend bool operator==(const Toxic&, const Toxic&) = default;
};

// What is wrong with `toxic` in words ("toxic 'slow': jitter_ms (80) is larger than
// latency_ms (50)"), or nullopt when a proxy accepts it. Names: 1..128 bytes of letters,
// digits and `_-.:/`. `down` must have toxicity 1 (a proxy is down or it is not); its
// direction is not used.
std::optional<std::string> toxic_problem(const Toxic& toxic);

// The deterministic targeting of toxicity. For the connection with 0-based ordinal `n` (the
// n-th connection the proxy accepted since it started):
//
//   h = mix64(seed XOR fnv1a64(toxic_name + "\n" + decimal(n)))   (common/rng.h)
//   u = (h >> 11) * 2^-53                                          (a double in [0, 1))
//   hit = u < toxicity
//
// So toxicity 0 hits nothing, 1 hits every connection, and raising the toxicity only adds
// connections to those already hit. Two toxics with the same name and seed hit the same
// connections (on any proxy); give them different names to decorrelate them.
double toxic_fraction(uint64_t seed, std::string_view toxic_name, uint64_t connection_ordinal);
inline bool toxic_hits(uint64_t seed, std::string_view toxic_name, uint64_t connection_ordinal,
                       double toxicity) {
  return toxic_fraction(seed, toxic_name, connection_ordinal) < toxicity;
}

// The seed of the RNG stream a toxic draws from on one connection (latency jitter, slice
// sizes): mix64(seed XOR fnv1a64("draws\n" + toxic_name + "\n" + decimal(n))). The k-th
// chunk of the connection in the toxic's direction takes the k-th draws of Rng(that seed).
uint64_t toxic_stream_seed(uint64_t seed, std::string_view toxic_name, uint64_t connection_ordinal);

}  // namespace faultline
