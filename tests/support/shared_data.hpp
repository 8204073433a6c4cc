// Locates ../shared/data (real models and text) for tests; tests skip with a
// printed reason when it is absent.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace dcomp::testing {

/// The shared data folder: $DCOMP_SHARED_DATA, else <source>/../shared/data.
inline std::optional<std::filesystem::path> shared_data_dir() {
  if (const char* env = std::getenv("DCOMP_SHARED_DATA"); env && *env) {
    if (std::filesystem::is_directory(env)) return std::filesystem::path(env);
    return std::nullopt;
  }
  std::filesystem::path fallback(DCOMP_SHARED_DATA_DEFAULT);
  if (std::filesystem::is_directory(fallback)) return fallback;
  return std::nullopt;
}

}  // namespace dcomp::testing

/// Declares `path_var` as the shared data folder, or skips the test with a reason.
#define DCOMP_SHARED_DATA_OR_SKIP(path_var)                                              \
  auto path_var##_opt = ::dcomp::testing::shared_data_dir();                              \
  if (!path_var##_opt) {                                                                  \
    GTEST_SKIP() << "shared data folder not found (set DCOMP_SHARED_DATA or place it at " \
                 << DCOMP_SHARED_DATA_DEFAULT << ")";                                     \
  }                                                                                       \
  const std::filesystem::path path_var = *path_var##_opt
