#include "observe/client_stats.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <stdexcept>

namespace faultline::observe {

namespace {

constexpr std::string_view kTransportClasses[] = {"timeout", "refused", "reset", "dns", "other"};

// Error classes outside the known set are counted as "other", keeping the outcome set small.
// "dropped" and "aborted" are kept: they are faultline's doing, counted apart from outcomes.
std::string_view normalized_error_class(std::string_view c) {
  if (c.empty() || c == "dropped" || c == "aborted") return c;
  for (std::string_view known : kTransportClasses) {
    if (c == known) return known;
  }
  return "other";
}

bool contains(const std::vector<std::string>& list, std::string_view s) {
  return list.empty() || std::find(list.begin(), list.end(), s) != list.end();
}

bool outcome_selected(const std::vector<OutcomeSelector>& outcomes, int status,
                      std::string_view error_class) {
  if (outcomes.empty()) return true;
  for (const OutcomeSelector& o : outcomes) {
    if (o.matches(status, error_class)) return true;
  }
  return false;
}

}  // namespace

std::pair<int, std::string_view> outcome_of(const SampleRecord& s) {
  const std::string_view error_class = normalized_error_class(s.error_class);
  if (!error_class.empty()) return {0, error_class};
  if (s.status <= 0) return {0, "other"};
  return {s.status, ""};
}

OutcomeSelector OutcomeSelector::parse(std::string_view text) {
  OutcomeSelector s;
  s.text_ = std::string(text);
  if (text.size() == 3 && text[0] >= '1' && text[0] <= '5' && text.substr(1) == "xx") {
    s.kind_ = Kind::kStatusClass;
    s.code_ = text[0] - '0';
    return s;
  }
  int code = 0;
  if (text.size() == 3 &&
      std::from_chars(text.data(), text.data() + 3, code).ptr == text.data() + 3 && code >= 100 &&
      code <= 599) {
    s.kind_ = Kind::kStatusCode;
    s.code_ = code;
    return s;
  }
  if (text == "ok") {
    s.kind_ = Kind::kOk;
  } else if (text == "error") {
    s.kind_ = Kind::kError;
  } else if (text == "transport") {
    s.kind_ = Kind::kTransport;
  } else if (std::find(std::begin(kTransportClasses), std::end(kTransportClasses), text) !=
             std::end(kTransportClasses)) {
    s.kind_ = Kind::kErrorClass;
  } else {
    throw std::invalid_argument(
        "unknown outcome \"" + std::string(text) +
        "\": expected a status class (2xx, 5xx), a status code (100-599), ok, error, transport, "
        "or an error class (timeout, refused, reset, dns, other)");
  }
  return s;
}

bool OutcomeSelector::matches(int status, std::string_view error_class) const {
  if (error_class == "dropped" || error_class == "aborted") return false;
  const bool response = error_class.empty() && status != 0;
  const int status_class = status > 0 ? status / 100 : -status;
  switch (kind_) {
    case Kind::kStatusClass:
      return response && status_class == code_;
    case Kind::kStatusCode:
      return response && status == code_;
    case Kind::kOk:
      return response && status_class < 4;
    case Kind::kError:
      return !response || status_class >= 5;
    case Kind::kTransport:
      return !response;
    case Kind::kErrorClass:
      break;
  }
  return !response && error_class == text_;
}

ClientStats::ClientStats(size_t slowest_k, size_t max_error_signatures)
    : slowest_(slowest_k), signatures_(max_error_signatures) {}

void ClientStats::record(const SampleRecord& sample) {
  add(sample.phase, sample);
  if (sample.dropped()) {
    signatures_.add(sample.route + " dropped", sample.request_id);
    return;
  }
  if (sample.aborted()) return;  // faultline's stop, not the target: no signature, no latency
  slowest_.offer(sample);
  const auto [status, error_class] = outcome_of(sample);
  if (!error_class.empty() || status >= 400)
    signatures_.add(error_signature(sample.route, status, error_class, sample.problem),
                    sample.request_id);
}

void ClientStats::record_in(std::string_view window, const SampleRecord& sample) {
  add(window, sample);
}

void ClientStats::add(std::string_view phase, const SampleRecord& sample) {
  auto key_it = keys_.find(std::pair<std::string_view, std::string_view>(phase, sample.route));
  if (key_it == keys_.end()) {
    key_it = keys_.emplace(Key(phase, sample.route), KeyStats{}).first;
  }
  KeyStats& k = key_it->second;
  if (sample.dropped()) {
    ++k.dropped;
    return;
  }
  k.lateness.record(sample.send_lateness_us());
  if (sample.aborted()) {
    ++k.aborted;
    return;
  }
  auto [status, error_class] = outcome_of(sample);
  auto it = k.outcomes.find(std::pair<int, std::string_view>(status, error_class));
  if (it == k.outcomes.end()) {
    if (k.outcomes.size() >= kMaxOutcomesPerKey && status > 0) {
      status = -(status / 100);  // lumped, keeping the class
      it = k.outcomes.find(std::pair<int, std::string_view>(status, error_class));
    }
    if (it == k.outcomes.end()) {
      it = k.outcomes.emplace(std::pair<int, std::string>(status, error_class), LatencyHistogram{})
               .first;
    }
  }
  it->second.record(sample.latency_us);
}

void ClientStats::merge(const ClientStats& other) {
  for (const auto& [key, theirs] : other.keys_) {
    KeyStats& mine = keys_[key];
    mine.dropped += theirs.dropped;
    mine.aborted += theirs.aborted;
    mine.lateness.merge(theirs.lateness);
    for (const auto& [outcome, h] : theirs.outcomes) mine.outcomes[outcome].merge(h);
  }
  slowest_.merge(other.slowest_);
  signatures_.merge(other.signatures_);
}

template <typename F>
void ClientStats::for_each_selected(const ClientSelection& selection, F&& f) const {
  for (const auto& [key, stats] : keys_) {
    if (contains(selection.phases, key.first) && contains(selection.routes, key.second)) f(stats);
  }
}

uint64_t ClientStats::count(const ClientSelection& selection) const {
  uint64_t n = 0;
  for_each_selected(selection, [&](const KeyStats& k) {
    for (const auto& [outcome, h] : k.outcomes) {
      if (outcome_selected(selection.outcomes, outcome.first, outcome.second)) n += h.count();
    }
  });
  return n;
}

uint64_t ClientStats::dropped(const ClientSelection& selection) const {
  uint64_t n = 0;
  for_each_selected(selection, [&](const KeyStats& k) { n += k.dropped; });
  return n;
}

uint64_t ClientStats::aborted(const ClientSelection& selection) const {
  uint64_t n = 0;
  for_each_selected(selection, [&](const KeyStats& k) { n += k.aborted; });
  return n;
}

double ClientStats::error_rate(const ClientSelection& selection,
                               const std::vector<OutcomeSelector>& errors) const {
  const uint64_t total = count(selection);
  if (total == 0) return std::numeric_limits<double>::quiet_NaN();
  static const std::vector<OutcomeSelector> kDefault = {OutcomeSelector::parse("error")};
  const std::vector<OutcomeSelector>& wanted = errors.empty() ? kDefault : errors;
  uint64_t failed = 0;
  for_each_selected(selection, [&](const KeyStats& k) {
    for (const auto& [outcome, h] : k.outcomes) {
      if (outcome_selected(selection.outcomes, outcome.first, outcome.second) &&
          outcome_selected(wanted, outcome.first, outcome.second)) {
        failed += h.count();
      }
    }
  });
  return static_cast<double>(failed) / static_cast<double>(total);
}

double ClientStats::rps(const ClientSelection& selection, TimeWindow window) const {
  if (window.seconds() <= 0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(count(selection)) / window.seconds();
}

LatencyHistogram ClientStats::latency(const ClientSelection& selection) const {
  LatencyHistogram merged;
  for_each_selected(selection, [&](const KeyStats& k) {
    for (const auto& [outcome, h] : k.outcomes) {
      if (outcome_selected(selection.outcomes, outcome.first, outcome.second)) merged.merge(h);
    }
  });
  return merged;
}

LatencyHistogram ClientStats::send_lateness(const ClientSelection& selection) const {
  LatencyHistogram merged;
  for_each_selected(selection, [&](const KeyStats& k) { merged.merge(k.lateness); });
  return merged;
}

std::vector<std::pair<std::string, std::string>> ClientStats::keys() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, stats] : keys_) out.push_back(key);
  return out;
}

}  // namespace faultline::observe
