#include "common/version.h"

namespace faultline {
const char* version() {
  return FAULTLINE_VERSION;
}
}  // namespace faultline
