// ClientStats: the in-memory summary of every request the client made, organised by
// (phase, route) and, inside that, by outcome: the HTTP status, or for requests that got no
// response the transport error class. Each outcome keeps a LatencyHistogram, so counts, error
// rates and latency quantiles for any selection (phases x routes x outcomes) are exact sums
// and merges, computed on demand.
//
// Two kinds of arrival have no outcome and are counted apart, outside count(), error_rate() and
// latency(): dropped ones (never sent) and aborted ones (in flight when faultline itself stopped
// the run: their "latency" is the stop, and their failure is not the target's). Each key also
// keeps a histogram of send lateness (sent_us - intended_us) of the requests that were sent
// (aborted ones included), which tells when the client, not the target, was slow.
//
// Windows other than whole phases ("during(trigger, last 30s)") are known when the plan is
// made: the runner records a sample a second time with record_in("<window name>", sample) for
// each such window containing its intended time, and selects that name as the phase.
//
// Memory is bounded whatever the run length: keys are the plan's phases (and windows) times
// its routes; outcomes per key are bounded by kMaxOutcomesPerKey (statuses beyond that are
// lumped by class: they still count for `5xx`, not for `503`); each histogram is at most 58 KB
// (about 26 KB up to one hour); the top-k and error signatures are bounded too.
//
// Thread-safety: a value type, no internal locking; the runner records from one thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "observe/error_signatures.h"
#include "observe/latency_histogram.h"
#include "observe/sample_record.h"
#include "observe/slowest_requests.h"
#include "observe/time_window.h"

namespace faultline::observe {

// One term of an outcome selector, as written in the DSL: `status=5xx`, `status=503`,
// `error=timeout`. Forms:
//   "1xx".."5xx"   a status class          "503"        one status code
//   "ok"           1xx-3xx responses       "error"      5xx responses or no response
//   "transport"    no response at all      "timeout", "refused", "reset", "dns", "other":
//                                          no response, for that reason
// "error" is what error_rate counts by default: 4xx are the client's doing, so they count only
// when asked for ("4xx").
class OutcomeSelector {
 public:
  // Throws std::invalid_argument naming the accepted forms.
  static OutcomeSelector parse(std::string_view text);

  // `status` is 0 and `error_class` non-empty when no response arrived. A negative status
  // stands for "some status of class -status" (ClientStats' lumped statuses).
  bool matches(int status, std::string_view error_class) const;
  const std::string& text() const { return text_; }

 private:
  enum class Kind { kStatusClass, kStatusCode, kOk, kError, kTransport, kErrorClass };
  Kind kind_ = Kind::kError;
  int code_ = 0;  // the class digit for kStatusClass, the code for kStatusCode
  std::string text_;
};

// (status, error class) of a sample as ClientStats stores it: a response has its status and
// no class; a failure has status 0 and a known class ("other" when none or an unknown one was
// given); a dropped arrival has class "dropped", an aborted one "aborted". No selector matches
// "dropped" or "aborted": neither is an outcome of the target.
std::pair<int, std::string_view> outcome_of(const SampleRecord& s);

// Which requests a query reads. Empty lists select everything; within a list, any entry.
struct ClientSelection {
  std::vector<std::string> phases;  // phase (or window) names given to record/record_in
  std::vector<std::string> routes;
  std::vector<OutcomeSelector> outcomes;
};

class ClientStats {
 public:
  static constexpr size_t kMaxOutcomesPerKey = 64;

  explicit ClientStats(size_t slowest_k = SlowestRequests::kDefaultK,
                       size_t max_error_signatures = ErrorSignatures::kDefaultMaxDistinct);

  // Records a sample under (sample.phase, sample.route); offers it to the slowest requests and
  // counts its error signature (any non-2xx/3xx outcome, e.g. "orders 503", "orders timeout",
  // "orders dropped"). Dropped and aborted requests are counted apart and have no latency;
  // aborted ones have no error signature and are not among the slowest either.
  void record(const SampleRecord& sample);
  // Records counts and latency only, under (window, sample.route).
  void record_in(std::string_view window, const SampleRecord& sample);
  // Exact: as if every sample of `other` had been recorded here.
  void merge(const ClientStats& other);

  // Requests that were sent (not dropped) and match the selection.
  uint64_t count(const ClientSelection& selection) const;
  // Requests of the selection's phases and routes that were never sent (outcomes ignored).
  uint64_t dropped(const ClientSelection& selection) const;
  // Requests of the selection's phases and routes that faultline's stop aborted in flight
  // (outcomes ignored). They were sent, but are in neither count() nor latency().
  uint64_t aborted(const ClientSelection& selection) const;
  // count(selection restricted to `errors`) / count(selection); `errors` empty means
  // {"error"}. NaN when the selection is empty.
  double error_rate(const ClientSelection& selection,
                    const std::vector<OutcomeSelector>& errors = {}) const;
  // count(selection) / window seconds.
  double rps(const ClientSelection& selection, TimeWindow window) const;
  // The merged latency histogram of the selection: quantile_us(0.99), max_us(), mean_us().
  LatencyHistogram latency(const ClientSelection& selection) const;
  // Send lateness (sent_us - intended_us, at least 0) of the requests of the selection's
  // phases and routes that were sent, aborted ones included (outcomes ignored).
  LatencyHistogram send_lateness(const ClientSelection& selection) const;

  // (phase, route) pairs recorded, sorted.
  std::vector<std::pair<std::string, std::string>> keys() const;
  const SlowestRequests& slowest() const { return slowest_; }
  const ErrorSignatures& error_signatures() const { return signatures_; }

 private:
  // Orders pairs of (string or int, string) and their string_view forms alike, so lookups
  // need no allocation.
  struct PairLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      if (a.first != b.first) return a.first < b.first;
      return std::string_view(a.second) < std::string_view(b.second);
    }
  };
  struct KeyStats {
    // (status, error class) -> latency; responses have an empty class, failures status 0,
    // lumped statuses -class (see OutcomeSelector::matches).
    std::map<std::pair<int, std::string>, LatencyHistogram, PairLess> outcomes;
    uint64_t dropped = 0;
    uint64_t aborted = 0;
    LatencyHistogram lateness;  // of sent requests (not dropped), aborted ones included
  };
  using Key = std::pair<std::string, std::string>;  // (phase, route)

  void add(std::string_view phase, const SampleRecord& sample);
  template <typename F>
  void for_each_selected(const ClientSelection& selection, F&& f) const;

  std::map<Key, KeyStats, PairLess> keys_;
  SlowestRequests slowest_;
  ErrorSignatures signatures_;
};

}  // namespace faultline::observe
