// faultline's version, recorded in every artifact.
#pragma once

namespace faultline {
const char* version();
}
