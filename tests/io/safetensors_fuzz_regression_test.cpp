// Safetensors files found by fuzzing (tests/fuzz/regressions/safetensors_header) are
// rejected with a SafetensorsError that names the file and the problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "kernels/io/safetensors.hpp"

namespace dcomp::io {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::filesystem::path regression(const std::string& name) {
  return std::filesystem::path(DCOMP_SOURCE_DIR) / "tests/fuzz/regressions/safetensors_header" / name;
}

// A number in the header too large for a double is a JSON error of this file, not a
// bare nlohmann out_of_range exception.
TEST(SafetensorsFuzzRegression, NumberTooLargeInTheHeader) {
  const auto path = regression("number_too_large");
  try {
    SafetensorsFile::open(path);
    FAIL() << "the file was accepted";
  } catch (const SafetensorsError& error) {
    EXPECT_THAT(error.what(), StartsWith(path.string() + ": header is not valid JSON: "));
    EXPECT_THAT(error.what(), HasSubstr("number overflow"));
  }
}

}  // namespace
}  // namespace dcomp::io
