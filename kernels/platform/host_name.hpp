// This machine's host name, as messages about ranks and lock holders print it.
#pragma once

#include <string>

namespace dcomp::platform {

/// gethostname(2), or "unknown" when it fails.
std::string host_name();

}  // namespace dcomp::platform
