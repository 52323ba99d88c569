#include "roles/role.h"

namespace faultline::demo {

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kApi:
      return "api";
    case Role::kPayment:
      return "payment";
    case Role::kWorker:
      return "worker";
  }
  return "unknown";
}

std::optional<Role> parse_role(std::string_view text) {
  if (text == "api") return Role::kApi;
  if (text == "payment") return Role::kPayment;
  if (text == "worker") return Role::kWorker;
  return std::nullopt;
}

}  // namespace faultline::demo
