// reference: dl_iterate_phdr(3)
#include "kernels/platform/blas_library.hpp"

#include <link.h>

#include <filesystem>
#include <set>
#include <system_error>

namespace dcomp::platform {

std::string loaded_blas_libraries() {
  std::set<std::string> paths;
  dl_iterate_phdr(
      [](struct dl_phdr_info* info, size_t, void* data) -> int {
        const std::string name = info->dlpi_name ? info->dlpi_name : "";
        const std::string file = std::filesystem::path(name).filename().string();
        if (file.find("blas") != std::string::npos) {
          std::error_code error;
          const auto resolved = std::filesystem::canonical(name, error);
          static_cast<std::set<std::string>*>(data)->insert(error ? name : resolved.string());
        }
        return 0;
      },
      &paths);
  std::string joined;
  for (const auto& path : paths) joined += (joined.empty() ? "" : ", ") + path;
  return joined;
}

}  // namespace dcomp::platform
