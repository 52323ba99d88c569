#include "plan/arrival_stream.h"

#include <cmath>
#include <cstdio>

#include "spec/route_template.h"

namespace faultline {

namespace {

// start + step * n with two's-complement wrap-around instead of signed overflow (undefined):
// sequence(INT64_MAX, 1) wraps to INT64_MIN rather than invoking UB; every value a
// realistic spec produces is unchanged.
int64_t sequence_value(int64_t start, int64_t step, uint64_t n) {
  return static_cast<int64_t>(static_cast<uint64_t>(start) + static_cast<uint64_t>(step) * n);
}

}  // namespace

namespace {

// A template split once into literal text and variable references, so rendering an
// arrival is appends only.
struct Template {
  struct Part {
    std::string literal;
    int var = -1;  // index into the route's vars; kSeq / kRequestId for builtins
  };
  static constexpr int kSeq = -2;
  static constexpr int kRequestId = -3;
  std::vector<Part> parts;

  // The placeholders as the loader reads them (find_placeholders); a name that is neither a
  // var nor a builtin stays literal text (the loader has rejected it already).
  static Template parse(const std::string& text, const std::vector<VarSpec>& vars) {
    Template t;
    size_t done = 0;  // text before this offset is in t.parts
    for (const TemplatePlaceholder& p : find_placeholders(text)) {
      int index = -1;
      if (p.name == kSeqPlaceholder) index = kSeq;
      if (p.name == kRequestIdPlaceholder) index = kRequestId;
      for (size_t v = 0; v < vars.size(); ++v)
        if (vars[v].name == p.name) index = static_cast<int>(v);
      if (index == -1) continue;
      if (p.offset > done) t.parts.push_back({text.substr(done, p.offset - done), -1});
      t.parts.push_back({"", index});
      done = p.offset + p.length;
    }
    if (done < text.size()) t.parts.push_back({text.substr(done), -1});
    return t;
  }

  std::string render(const std::vector<std::string>& values, const std::string& seq,
                     const std::string& request_id) const {
    std::string out;
    for (const auto& p : parts) {
      if (p.var == -1)
        out += p.literal;
      else if (p.var == kSeq)
        out += seq;
      else if (p.var == kRequestId)
        out += request_id;
      else
        out += values[static_cast<size_t>(p.var)];
    }
    return out;
  }
};

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// L^-1(y) for L(t) = a t + c2 t^2 (rates per second, t in seconds). The form
// 2y / (a + sqrt(a^2 + 4 c2 y)) is stable for c2 of either sign and for c2 -> 0.
double inverse_intensity(double a, double c2, double y) {
  if (y <= 0) return 0;
  const double disc = a * a + 4 * c2 * y;
  if (disc < 0) return INFINITY;  // a falling ramp never reaches y
  const double denom = a + std::sqrt(disc);
  if (denom <= 0) return INFINITY;
  return 2 * y / denom;
}

}  // namespace

struct ArrivalStream::RouteState {
  std::vector<Rng> var_rngs;
  std::vector<std::unique_ptr<ZipfSampler>> zipf;
  std::vector<uint64_t> sequence_next;  // per var, count of draws so far
  Template path;
  Template body;
  std::vector<std::pair<std::string, Template>> headers;
};

std::string request_id_for(uint64_t seed, uint64_t seq) {
  return "fl-" + std::to_string(seed) + "-" + std::to_string(seq);
}

std::string traceparent_for(uint64_t seed, uint64_t seq) {
  const uint64_t hi = mix64(seed ^ mix64(seq + 0x7261636500000000ULL));
  const uint64_t lo = mix64(hi ^ seq);
  const uint64_t span = mix64(lo + 1) | 1;  // never all zero (invalid in W3C trace context)
  return "00-" + hex64(hi | 1) + hex64(lo) + "-" + hex64(span) + "-01";
}

ArrivalStream::ArrivalStream(const Plan& plan)
    : plan_(plan), route_rng_(Rng(plan.seed).derive("routes")) {
  const Rng root(plan.seed);
  double total = 0;
  for (const auto& route : plan.routes) {
    total += route.weight;
    cumulative_weight_.push_back(total);
    auto state = std::make_unique<RouteState>();
    for (const auto& var : route.vars) {
      state->var_rngs.push_back(root.derive("var/" + route.name + "/" + var.name));
      state->zipf.push_back(
          var.kind == VarSpec::Kind::kZipf ? std::make_unique<ZipfSampler>(var.n, var.s) : nullptr);
      state->sequence_next.push_back(0);
    }
    state->path = Template::parse(route.path_template, route.vars);
    state->body = Template::parse(route.body_template, route.vars);
    for (const auto& [name, value] : route.header_templates)
      state->headers.emplace_back(name, Template::parse(value, route.vars));
    routes_.push_back(std::move(state));
  }
}

ArrivalStream::~ArrivalStream() = default;

bool ArrivalStream::advance_time() {
  while (phase_ < plan_.phases.size()) {
    const PhaseWindow& w = plan_.phases[phase_];
    if (!phase_rng_) phase_rng_ = Rng(plan_.seed).derive("arrivals/" + w.name);
    const double length_s = std::chrono::duration<double>(w.length()).count();
    const double a = w.rate_from;
    const double c2 = length_s > 0 ? (w.rate_to - w.rate_from) / (2 * length_s) : 0;
    double y;
    if (plan_.arrival == ArrivalProcess::kPoisson) {
      poisson_sum_ += phase_rng_->exponential(1.0);
      y = poisson_sum_;
    } else {
      y = static_cast<double>(phase_index_);
    }
    const double t = inverse_intensity(a, c2, y);
    if (std::isfinite(t) && t < length_s) {
      const auto offset = Duration{static_cast<int64_t>(std::floor(t * 1e6))};
      if (w.start + offset < w.end) {
        next_time_ = w.start + offset;
        ++phase_index_;
        return true;
      }
    }
    ++phase_;
    phase_index_ = 0;
    poisson_sum_ = 0;
    phase_rng_.reset();
  }
  return false;
}

std::optional<Arrival> ArrivalStream::next() {
  if (plan_.routes.empty() || !advance_time()) return std::nullopt;
  Arrival a;
  a.seq = seq_++;
  a.intended = next_time_;
  a.phase = static_cast<uint32_t>(phase_);
  const double pick = route_rng_.uniform01() * cumulative_weight_.back();
  size_t r = 0;
  while (r + 1 < cumulative_weight_.size() && pick >= cumulative_weight_[r]) ++r;
  a.route = static_cast<uint32_t>(r);
  const RouteSpec& route = plan_.routes[r];
  RouteState& st = *routes_[r];

  // Every var of the chosen route is drawn, used or not, so streams never shift.
  std::vector<std::string> values(route.vars.size());
  for (size_t v = 0; v < route.vars.size(); ++v) {
    const VarSpec& var = route.vars[v];
    Rng& rng = st.var_rngs[v];
    switch (var.kind) {
      case VarSpec::Kind::kUniform:
        values[v] = std::to_string(rng.uniform_int(var.lo, var.hi));
        break;
      case VarSpec::Kind::kZipf:
        values[v] = std::to_string(st.zipf[v]->sample(rng));
        break;
      case VarSpec::Kind::kChoice:
        values[v] = var.choices.empty() ? "" : var.choices[rng.uniform_below(var.choices.size())];
        break;
      case VarSpec::Kind::kSequence:
        values[v] = std::to_string(sequence_value(var.start, var.step, st.sequence_next[v]++));
        break;
    }
  }
  a.request_id = request_id_for(plan_.seed, a.seq);
  a.traceparent = traceparent_for(plan_.seed, a.seq);
  const std::string seq_text = std::to_string(a.seq);
  a.method = route.method;
  a.path = st.path.render(values, seq_text, a.request_id);
  a.body = st.body.render(values, seq_text, a.request_id);
  for (const auto& [name, tmpl] : st.headers)
    a.headers.emplace_back(name, tmpl.render(values, seq_text, a.request_id));
  return a;
}

}  // namespace faultline
