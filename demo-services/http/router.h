// Maps (method, path) to a route template such as "/users/{id}". The template, never the raw
// path, is what metrics use as the `route` label, which keeps label cardinality bounded.
//
// Templates are literal segments and `{name}` segments; a `{name}` segment matches exactly one
// non-empty path segment. Literal routes win over parameter routes at the same position
// ("/__faults/reset" over "/__faults/{x}"). Not thread-safe while adding routes; match() is
// const and may run concurrently once routing is set up.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::demo {

struct RouteMatch {
  int route = -1;  // index returned by Router::add, or -1
  std::map<std::string, std::string> params;
  // When the path matches some route but not with this method: those routes' methods (for a
  // 405 with Allow). Empty when nothing matches the path (404).
  std::vector<std::string> allowed_methods;
};

class Router {
 public:
  // Returns the route's index. Throws std::invalid_argument on a malformed template or a
  // duplicate (method, template).
  int add(std::string method, std::string path_template);

  RouteMatch match(std::string_view method, std::string_view path) const;

  const std::string& path_template(int route) const { return routes_.at(route).path_template; }
  const std::string& method(int route) const { return routes_.at(route).method; }

 private:
  struct Route {
    std::string method;
    std::string path_template;
    std::vector<std::string> segments;  // "{id}" kept as is
  };
  // Number of literal segments when the path matches the route, else -1.
  static int score(const Route& route, const std::vector<std::string_view>& parts,
                   std::map<std::string, std::string>* params);

  std::vector<Route> routes_;
};

}  // namespace faultline::demo
