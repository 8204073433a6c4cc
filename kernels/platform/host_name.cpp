// reference: gethostname(2).
#include "kernels/platform/host_name.hpp"

#include <unistd.h>

namespace dcomp::platform {

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

}  // namespace dcomp::platform
