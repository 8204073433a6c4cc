// Which single output files (--report, --dump-logits, --write-text) a command may write:
// every case is built on disk (model folder, dataset, symbolic and hard links, planted
// files) and checked against the rules of kernels/ct/output_file_policy.hpp; then the
// atomic writer io::replace_file_with.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "kernels/ct/output_file_policy.hpp"
#include "kernels/io/durable_files.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/synthetic_model.hpp"
#include "tests/ct/ct_test_support.hpp"

namespace dcomp::ct {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;
using testing::write_file;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class OutputFilePolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = scratch_.path();
    model_ = root_ / "model";
    dataset_ = root_ / "data" / "calib.txt";
    recipe_ = root_ / "recipe.yaml";
    write_file(model_ / "config.json", "{\"model_type\": \"llama\"}");
    write_file(model_ / "model.safetensors", "weights");
    write_file(dataset_, "Once upon a time\n");
    write_file(recipe_, "quant_stage: {}\n");
    inputs_ = {{"the model folder", model_, true}, {"the dataset", dataset_, false}, {"the recipe", recipe_, false}};
  }

  // The message of the OutputFolderError that checking `output` throws ("" if none).
  std::string refusal(const fs::path& output, OutputFileKind kind = OutputFileKind::RunReport) const {
    try {
      check_output_file("--report", output, kind, inputs_, root_ / "out");
    } catch (const OutputFolderError& error) {
      return error.what();
    }
    return "";
  }

  ScratchDir scratch_;
  fs::path root_, model_, dataset_, recipe_;
  std::vector<RunInput> inputs_;
};

#define EXPECT_REFUSED(output, part)                                                 \
  do {                                                                               \
    const std::string message = refusal(output);                                     \
    EXPECT_NE(message.find(part), std::string::npos) << (output) << ": " << message; \
  } while (false)

TEST_F(OutputFilePolicy, RefusesEveryInputHoweverItIsNamed) {
  EXPECT_REFUSED(model_ / "model.safetensors", "lies inside the model folder");
  EXPECT_REFUSED(model_ / "new.json", "lies inside the model folder");
  EXPECT_REFUSED(model_, "is the model folder");
  EXPECT_REFUSED(dataset_, "is the dataset");
  EXPECT_REFUSED(recipe_, "is the recipe");
  EXPECT_REFUSED(root_ / "data" / ".." / "data" / "calib.txt", "is the dataset");
  fs::create_symlink(dataset_, root_ / "link.txt");
  EXPECT_REFUSED(root_ / "link.txt", "is the dataset");
  fs::create_directory_symlink(model_, root_ / "model-link");
  EXPECT_REFUSED(root_ / "model-link" / "model.safetensors", "lies inside the model folder");
  // Hard links: another name of the same inode (st_dev, st_ino).
  fs::create_hard_link(model_ / "model.safetensors", root_ / "weights-link");
  EXPECT_REFUSED(root_ / "weights-link", "hard link to a file of the model folder");
  fs::create_hard_link(dataset_, root_ / "data-link");
  EXPECT_REFUSED(root_ / "data-link", "hard link to a file of the dataset");
}

TEST_F(OutputFilePolicy, RefusesPathsInsideTheOutputFolder) {
  EXPECT_REFUSED(root_ / "out", "lies inside the output folder");
  EXPECT_REFUSED(root_ / "out" / "report.json", "lies inside the output folder");
}

TEST_F(OutputFilePolicy, RefusesFoldersAndPathsThatCannotBeWritten) {
  EXPECT_REFUSED(root_ / "missing" / "report.json", "does not exist");
  write_file(root_ / "plain.txt", "x");
  EXPECT_REFUSED(root_ / "plain.txt" / "report.json", "does not exist");
  fs::create_directories(root_ / "folder");
  EXPECT_REFUSED(root_ / "folder", "is not a regular file");
  EXPECT_REFUSED("/", "not a file name");
  EXPECT_REFUSED("/proc/version", "cannot write in /proc");
  EXPECT_EQ(refusal(root_ / "report.json"), "");
  EXPECT_EQ(refusal(root_ / "data" / "report.json"), "");  // beside the dataset is fine
}

TEST_F(OutputFilePolicy, ReplacesOnlyAnEarlierOutputOfTheSameKind) {
  const fs::path report = root_ / "report.json";
  write_file(report, "{\"notes\": \"mine\"}");
  EXPECT_REFUSED(report, "is not a dcomp run report");
  write_file(report, "not json");
  EXPECT_REFUSED(report, "is not a dcomp run report");
  write_file(report, R"({"dcomp_version": "0.1.0", "output": "/tmp/out", "layers": []})");
  EXPECT_EQ(refusal(report), "");
  // A run report is no logits dump, and the reverse.
  EXPECT_NE(refusal(report, OutputFileKind::LogitsDump).find("is not a logits dump"), std::string::npos);

  const fs::path dump = root_ / "logits.safetensors";
  io::write_safetensors(dump, {{"input_ids", at::zeros({1, 3}, at::kLong), std::nullopt},
                               {"logits", at::zeros({1, 3, 5}), std::nullopt},
                               {"logits_activation_quantized", at::zeros({1, 3, 5}), std::nullopt}});
  EXPECT_EQ(refusal(dump, OutputFileKind::LogitsDump), "");
  EXPECT_REFUSED(dump, "is not a dcomp run report");
  const fs::path weights = root_ / "other.safetensors";
  io::write_safetensors(weights, {{"logits", at::zeros({2}), std::nullopt}});
  EXPECT_NE(refusal(weights, OutputFileKind::LogitsDump).find("is not a logits dump"), std::string::npos);

  const fs::path text = root_ / "calib.txt";
  write_file(text, model::builtin_calibration_text());
  EXPECT_EQ(refusal(text, OutputFileKind::CalibrationText), "");
  write_file(text, model::builtin_calibration_text() + "extra");
  EXPECT_NE(refusal(text, OutputFileKind::CalibrationText).find("is not dcomp's built-in calibration text"),
            std::string::npos);
}

TEST(ReplaceFileWith, WritesWholeFilesOrLeavesTheOldOne) {
  ScratchDir scratch;
  const fs::path path = scratch.path() / "report.json";
  io::replace_file_durably(path, "first\n");
  EXPECT_EQ(read_file(path), "first\n");
  io::replace_file_durably(path, "second\n");
  EXPECT_EQ(read_file(path), "second\n");
  // A writer that fails: the old contents stay, no temporary file is left, the error names the path.
  try {
    io::replace_file_with(path, [](const fs::path& temporary) {
      std::ofstream(temporary) << "partial";
      throw std::runtime_error("disk full");
    });
    FAIL() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(path.string() + ": cannot write: disk full"), std::string::npos)
        << error.what();
  }
  EXPECT_EQ(read_file(path), "second\n");
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(scratch.path())) entries += entry.is_regular_file() ? 1 : 0;
  EXPECT_EQ(entries, 1);
  EXPECT_THROW(io::replace_file_durably(scratch.path() / "missing" / "x", "x"), std::runtime_error);
}

}  // namespace
}  // namespace dcomp::ct
