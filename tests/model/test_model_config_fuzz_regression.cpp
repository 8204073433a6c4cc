// config.json files found by fuzzing (tests/fuzz/regressions/model_config) are rejected
// with a ModelConfigError that names the file and the problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "kernels/model/model_config.hpp"

namespace dcomp::model {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A model folder whose config.json is the regression file `name`.
class ModelConfigFuzzRegression : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path model_dir(const std::string& name) {
    std::filesystem::create_directories(dir_);
    std::filesystem::copy_file(
        std::filesystem::path(DCOMP_SOURCE_DIR) / "tests/fuzz/regressions/model_config" / name, dir_ / "config.json",
        std::filesystem::copy_options::overwrite_existing);
    return dir_;
  }

  const std::filesystem::path dir_ =
      std::filesystem::temp_directory_path() / ("dcomp_config_fuzz_" + std::to_string(::getpid()));
};

// A number too large for a double is a JSON error of config.json, not a bare nlohmann
// out_of_range exception.
TEST_F(ModelConfigFuzzRegression, NumberTooLarge) {
  const auto dir = model_dir("number_too_large");
  try {
    ModelConfig::from_dir(dir);
    FAIL() << "the config was accepted";
  } catch (const ModelConfigError& error) {
    EXPECT_THAT(error.what(), StartsWith((dir / "config.json").string() + ": not valid JSON: "));
    EXPECT_THAT(error.what(), HasSubstr("number overflow"));
  }
}

}  // namespace
}  // namespace dcomp::model
