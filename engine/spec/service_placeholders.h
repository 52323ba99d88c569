// Placeholders of environment commands and variables, filled in when faultline starts a
// service: {port} (the port allocated to this service), {data_dir} (a directory of its own in
// the run's bundle, kept across restarts), {<service>.port}, {<service>.url},
// {<service>.host} (of another service, which is therefore started first), and the same of one
// instance of a service that runs several: {<service>#<K>.port}. The loader checks them; the
// runner fills them, both through find_service_placeholders.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace faultline {

struct ServicePlaceholder {
  std::string service;    // empty for {port} (this service); otherwise the named service
  int instance = -1;      // K of {<service>#K.attribute}; -1 when no instance is named
  std::string attribute;  // "port", "url", "host", or whatever was written (checked by the loader)
  size_t offset;          // byte offset of '{'
  size_t length;          // bytes from '{' to '}' inclusive
};

// Finds {name}, {service.attribute} and {service#K.attribute}: names are letters, digits, '_'
// and '-', K is 1 to 4 decimal digits. For {name} alone, service is empty and attribute is
// name. Other braces are literal text.
std::vector<ServicePlaceholder> find_service_placeholders(std::string_view text);

}  // namespace faultline
