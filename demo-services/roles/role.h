// The three roles of the demo system under test. One binary plays one role per process.
#pragma once

#include <optional>
#include <string_view>

namespace faultline::demo {

enum class Role { kApi, kPayment, kWorker };

std::string_view role_name(Role role);

// "api" | "payment" | "worker" -> Role; nullopt for anything else.
std::optional<Role> parse_role(std::string_view text);

}  // namespace faultline::demo
