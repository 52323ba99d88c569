#include "http/router.h"

#include <stdexcept>

namespace faultline::demo {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    const size_t end = path.find('/', i);
    const size_t stop = end == std::string_view::npos ? path.size() : end;
    parts.push_back(path.substr(i, stop - i));
    i = stop;
  }
  return parts;
}

bool is_param(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

int Router::add(std::string method, std::string path_template) {
  if (path_template.empty() || path_template.front() != '/')
    throw std::invalid_argument("route template must start with '/': " + path_template);
  Route r;
  for (auto seg : split_path(path_template)) {
    if (seg.find_first_of("{}") != std::string_view::npos && !is_param(seg))
      throw std::invalid_argument("bad route segment '" + std::string(seg) + "'");
    r.segments.emplace_back(seg);
  }
  for (const auto& existing : routes_)
    if (existing.method == method && existing.path_template == path_template)
      throw std::invalid_argument("duplicate route " + method + " " + path_template);
  r.method = std::move(method);
  r.path_template = std::move(path_template);
  routes_.push_back(std::move(r));
  return static_cast<int>(routes_.size()) - 1;
}

int Router::score(const Route& route, const std::vector<std::string_view>& parts,
                  std::map<std::string, std::string>* params) {
  if (route.segments.size() != parts.size()) return -1;
  int literals = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& seg = route.segments[i];
    if (is_param(seg)) {
      if (params) (*params)[seg.substr(1, seg.size() - 2)] = std::string(parts[i]);
    } else if (seg == parts[i]) {
      ++literals;
    } else {
      return -1;
    }
  }
  return literals;
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch m;
  const auto parts = split_path(path);
  // A trailing slash is a different resource ("/users/" is not "/users"): keep it strict.
  if (path.size() > 1 && path.back() == '/') return m;
  int best = -1;
  int best_score = -1;
  int best_any_method = -1;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const int s = score(routes_[i], parts, nullptr);
    if (s < 0) continue;
    best_any_method = std::max(best_any_method, s);
    if (routes_[i].method == method && s > best_score) {
      best = static_cast<int>(i);
      best_score = s;
    }
  }
  // A more literal route for another method shadows a parameter route for this one:
  // "POST /__faults/reset" must not fall into "GET /__faults/{x}".
  if (best >= 0 && best_score == best_any_method) {
    m.route = best;
    score(routes_[best], parts, &m.params);
    return m;
  }
  for (const auto& r : routes_)
    if (score(r, parts, nullptr) == best_any_method && best_any_method >= 0)
      m.allowed_methods.push_back(r.method);
  return m;
}

}  // namespace faultline::demo
