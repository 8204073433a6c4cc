// Which output folders a run may write and which --overwrite may replace: every case is
// built on disk (model folder, dataset file, planted files, symbolic links) and checked
// against the rules of kernels/ct/output_folder_policy.hpp.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "kernels/ct/output_folder_policy.hpp"
#include "tests/ct/ct_test_support.hpp"

namespace dcomp::ct {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;
using testing::write_file;

class OutputPolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = scratch_.path();
    model_ = root_ / "par" / "model";
    dataset_ = root_ / "par" / "data" / "calib.txt";
    write_file(model_ / "config.json", "{\"model_type\": \"llama\"}");
    write_file(dataset_, "Once upon a time\n");
    inputs_ = {{"the model folder", model_, true}, {"the dataset", dataset_, false}};
  }

  // The message of the OutputFolderError that checking `output` throws ("" if none).
  std::string refusal(const fs::path& output, bool overwrite = true) const {
    try {
      check_output_folder(output, inputs_, overwrite);
    } catch (const OutputFolderError& error) {
      return error.what();
    }
    return "";
  }

  ScratchDir scratch_;
  fs::path root_, model_, dataset_;
  std::vector<RunInput> inputs_;
};

TEST_F(OutputPolicy, RefusesTheModelFolderAndAnythingAroundIt) {
  EXPECT_NE(refusal(model_).find("the output is the model folder"), std::string::npos) << refusal(model_);
  EXPECT_NE(refusal(model_ / "quantized").find("lies inside the model folder"), std::string::npos);
  EXPECT_NE(refusal(root_ / "par").find("contains the model folder"), std::string::npos);
  EXPECT_NE(refusal(root_).find("contains the model folder"), std::string::npos);
  // The same folder spelled with "..", a trailing slash, or through a symbolic link.
  EXPECT_NE(refusal(model_ / ".." / "model").find("is the model folder"), std::string::npos);
  EXPECT_NE(refusal(model_.string() + "/").find("is the model folder"), std::string::npos);
  fs::create_directory_symlink(root_ / "par", root_ / "link");
  EXPECT_NE(refusal(root_ / "link" / "model").find("is the model folder"), std::string::npos);
  EXPECT_NE(refusal(root_ / "link").find("contains the model folder"), std::string::npos);
}

TEST_F(OutputPolicy, RefusesWhatHoldsTheDatasetButAllowsAFolderBesideIt) {
  EXPECT_NE(refusal(root_ / "par" / "data").find("contains the dataset"), std::string::npos);
  EXPECT_NE(refusal(dataset_).find("the output is the dataset"), std::string::npos);
  EXPECT_EQ(refusal(root_ / "par" / "data" / "out"), "");
  EXPECT_EQ(check_output_folder(root_ / "out", inputs_, false), ExistingOutput::Absent);
}

TEST_F(OutputPolicy, RefusesRootsAndTheHomeFolder) {
  EXPECT_NE(refusal("/").find("filesystem root"), std::string::npos);
  const char* saved_home = std::getenv("HOME");
  const std::string saved = saved_home ? saved_home : "";
  fs::create_directories(root_ / "home");
  ::setenv("HOME", (root_ / "home").c_str(), 1);
  const std::string message = refusal(root_ / "home");
  if (saved_home) ::setenv("HOME", saved.c_str(), 1); else ::unsetenv("HOME");
  EXPECT_NE(message.find("the home folder"), std::string::npos) << message;
}

TEST_F(OutputPolicy, ExistingFoldersNeedOverwriteAndMustBeEmptyOrCheckpoints) {
  const fs::path other = root_ / "notes";
  write_file(other / "todo.txt", "keep me");
  EXPECT_NE(refusal(other, /*overwrite=*/false).find("already exists (use --overwrite"), std::string::npos);
  EXPECT_NE(refusal(other).find("is neither empty nor a checkpoint"), std::string::npos);
  // A config.json of a plain (not compressed-tensors) model is no checkpoint of ours.
  write_file(other / "config.json", "{\"quantization_config\": {\"quant_method\": \"gptq\"}}");
  EXPECT_NE(refusal(other).find("is neither empty nor a checkpoint"), std::string::npos);
  EXPECT_TRUE(fs::exists(other / "todo.txt"));

  fs::create_directories(root_ / "empty");
  EXPECT_EQ(check_output_folder(root_ / "empty", inputs_, true), ExistingOutput::EmptyFolder);

  const fs::path checkpoint = root_ / "w4a16";
  write_file(checkpoint / "config.json",
             "{\"quantization_config\": {\"quant_method\": \"compressed-tensors\", \"format\": \"pack-quantized\"}}");
  EXPECT_EQ(check_output_folder(checkpoint, inputs_, true), ExistingOutput::Checkpoint);
  EXPECT_NE(refusal(checkpoint, /*overwrite=*/false).find("already exists"), std::string::npos);
  const fs::path reported = root_ / "reported";
  write_file(reported / "dcomp_report.json", "{}");
  EXPECT_EQ(check_output_folder(reported, inputs_, true), ExistingOutput::Checkpoint);
}

TEST_F(OutputPolicy, RefusesAFileAsOutput) {
  write_file(root_ / "file.bin", "x");
  EXPECT_NE(refusal(root_ / "file.bin").find("is not a folder"), std::string::npos);
}

}  // namespace
}  // namespace dcomp::ct
