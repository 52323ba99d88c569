#include "http/router.h"

#include <doctest/doctest.h>

using faultline::demo::Router;

TEST_CASE("router: templates match one segment per parameter and report it") {
  Router r;
  const int users = r.add("GET", "/users/{id}");
  const int orders_post = r.add("POST", "/orders");
  const int order_get = r.add("GET", "/orders/{id}");
  auto m = r.match("GET", "/users/42");
  CHECK(m.route == users);
  CHECK(m.params.at("id") == "42");
  CHECK(r.path_template(m.route) == "/users/{id}");
  CHECK(r.match("POST", "/orders").route == orders_post);
  CHECK(r.match("GET", "/orders/ord-1").route == order_get);
  CHECK(r.match("GET", "/users/42/extra").route == -1);
  CHECK(r.match("GET", "/users").route == -1);
  CHECK(r.match("GET", "/users/42/").route == -1);
}

TEST_CASE("router: wrong method lists the allowed ones - unknown path lists none") {
  Router r;
  r.add("POST", "/orders");
  r.add("GET", "/orders/{id}");
  auto m = r.match("GET", "/orders");
  CHECK(m.route == -1);
  REQUIRE(m.allowed_methods.size() == 1);
  CHECK(m.allowed_methods[0] == "POST");
  auto missing = r.match("GET", "/nothing");
  CHECK(missing.route == -1);
  CHECK(missing.allowed_methods.empty());
}

TEST_CASE("router: literal routes win over parameter routes") {
  Router r;
  const int reset = r.add("POST", "/__faults/reset");
  r.add("GET", "/__faults/{x}");
  CHECK(r.match("POST", "/__faults/reset").route == reset);
  // GET on the literal path: the literal route shadows the parameter route -> 405.
  auto m = r.match("GET", "/__faults/reset");
  CHECK(m.route == -1);
  CHECK(m.allowed_methods == std::vector<std::string>{"POST"});
}

TEST_CASE("router: malformed and duplicate templates are refused") {
  Router r;
  CHECK_THROWS(r.add("GET", "users"));
  CHECK_THROWS(r.add("GET", "/a{b}"));
  r.add("GET", "/a");
  CHECK_THROWS(r.add("GET", "/a"));
  CHECK_NOTHROW(r.add("POST", "/a"));
}
