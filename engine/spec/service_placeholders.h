// Placeholders of environment commands and variables, filled in when faultline starts a
// service: {port} (the port allocated to this service), {<service>.port}, {<service>.url},
// {<service>.host} (of another service, which is therefore started first). The loader checks
// them; the runner fills them, both through find_service_placeholders.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace faultline {

struct ServicePlaceholder {
  std::string service;    // empty for {port} (this service); otherwise the named service
  std::string attribute;  // "port", "url", "host", or whatever was written (checked by the loader)
  size_t offset;          // byte offset of '{'
  size_t length;          // bytes from '{' to '}' inclusive
};

// Finds {name} and {service.attribute}: names are letters, digits, '_' and '-'. For {name}
// alone, service is empty and attribute is name. Other braces are literal text.
std::vector<ServicePlaceholder> find_service_placeholders(std::string_view text);

}  // namespace faultline
