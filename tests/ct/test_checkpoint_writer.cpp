// The checkpoint folder as a whole: atomic publication (never a partial output),
// refusing or replacing an existing output, sharding, config.json and copied files.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <limits>

#include "kernels/ct/checkpoint_writer.hpp"
#include "kernels/ct/quantization_config.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/quant/non_finite.hpp"
#include "tests/ct/ct_test_support.hpp"

namespace dcomp::ct {
namespace {

using testing::ScratchDir;

class Writer : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = testing::make_source_model(scratch_.path(), "float32");
    output_ = scratch_.path() / "out";
  }

  // Entries of the scratch folder besides the source: the output and any leftovers.
  std::vector<std::string> siblings() const {
    std::vector<std::string> names = testing::folder_entries(scratch_.path());
    names.erase(std::remove(names.begin(), names.end(), "source"), names.end());
    return names;
  }

  nlohmann::json w4a16_config() const {
    return build_quantization_config({{"group_0", quant::preset_scheme("W4A16", {"Linear"})}}, {"lm_head"});
  }

  ScratchDir scratch_;
  std::filesystem::path source_;
  std::filesystem::path output_;
};

TEST_F(Writer, WritesIntoTemporarySiblingAndPublishesOnFinish) {
  CheckpointWriter writer(output_, source_);
  writer.add_tensor("model.norm.weight", at::ones({4}));
  EXPECT_FALSE(std::filesystem::exists(output_));
  ASSERT_EQ(siblings().size(), 1u);
  EXPECT_EQ(siblings()[0].rfind("out.tmp-", 0), 0u) << siblings()[0];
  writer.add_file("recipe.yaml", "quant_stage:\n");
  EXPECT_THROW(writer.add_file("config.json", "{}"), CheckpointWriteError);
  EXPECT_THROW(writer.add_file("../escape.txt", ""), CheckpointWriteError);
  writer.finish(w4a16_config());
  EXPECT_EQ(siblings(), std::vector<std::string>{"out"});
  EXPECT_EQ(testing::folder_entries(output_),
            (std::vector<std::string>{"config.json", "generation_config.json", "model.safetensors", "recipe.yaml",
                                      "tokenizer.json"}));

  const nlohmann::json config = testing::read_json(output_ / "config.json");
  EXPECT_EQ(config.at("quantization_config"), w4a16_config());
  EXPECT_EQ(config.at("architectures"), nlohmann::json({"LlamaForCausalLM"}));
  // compressed-tensors dumps config.json with sorted keys and an indent of 2.
  std::ifstream stream(output_ / "config.json");
  const std::string text((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, config.dump(2) + "\n");
  EXPECT_LT(text.find("\"architectures\""), text.find("\"hidden_size\""));

  const auto file = io::SafetensorsFile::open(output_ / "model.safetensors");
  EXPECT_EQ(file->metadata().at("format"), "pt");
}

TEST_F(Writer, ExceptionBeforeFinishLeavesNothing) {
  try {
    CheckpointWriter writer(output_, source_);
    writer.add_tensor("model.norm.weight", at::ones({4}));
    throw std::runtime_error("calibration failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(siblings().empty());
}

TEST_F(Writer, FailedWriteLeavesNothing) {
  CheckpointWriterOptions options;
  options.max_shard_bytes = 16;  // every tensor flushes the previous shard
  try {
    CheckpointWriter writer(output_, source_, options);
    writer.add_tensor("model.norm.weight", at::ones({4}));
    // A folder where the first shard goes: writing that shard fails.
    std::filesystem::create_directory(writer.temporary_dir() / "shard-1.safetensors");
    writer.add_tensor("model.embed_tokens.weight", at::ones({4}));
    FAIL() << "writing the shard must fail";
  } catch (const CheckpointWriteError& error) {
    EXPECT_NE(std::string(error.what()).find("shard-1.safetensors"), std::string::npos) << error.what();
  }
  EXPECT_TRUE(siblings().empty());
}

TEST_F(Writer, AbortRemovesTemporaryFolder) {
  CheckpointWriter writer(output_, source_);
  writer.add_tensor("model.norm.weight", at::ones({4}));
  writer.abort();
  EXPECT_TRUE(siblings().empty());
  EXPECT_THROW(writer.add_tensor("x", at::ones({1})), CheckpointWriteError);
  EXPECT_THROW(writer.finish(w4a16_config()), CheckpointWriteError);
  EXPECT_FALSE(std::filesystem::exists(output_));
}

TEST_F(Writer, RefusesExistingOutput) {
  std::filesystem::create_directories(output_);
  testing::write_file(output_ / "keep.txt", "previous result");
  EXPECT_THROW(CheckpointWriter(output_, source_), CheckpointWriteError);
  CheckpointWriterOptions overwrite;
  overwrite.overwrite = true;
  EXPECT_THROW(CheckpointWriter(source_, source_, overwrite), CheckpointWriteError);
  EXPECT_EQ(testing::folder_entries(output_), std::vector<std::string>{"keep.txt"});
  EXPECT_EQ(siblings(), std::vector<std::string>{"out"});
}

TEST_F(Writer, RefusesOutputThatAppearsBeforeFinish) {
  {
    CheckpointWriter writer(output_, source_);
    writer.add_tensor("model.norm.weight", at::ones({4}));
    std::filesystem::create_directories(output_);
    testing::write_file(output_ / "keep.txt", "someone else's");
    EXPECT_THROW(writer.finish(w4a16_config()), CheckpointWriteError);
  }
  EXPECT_EQ(testing::folder_entries(output_), std::vector<std::string>{"keep.txt"});
  EXPECT_EQ(siblings(), std::vector<std::string>{"out"});
}

TEST_F(Writer, OverwriteReplacesExistingOutput) {
  std::filesystem::create_directories(output_);
  testing::write_file(output_ / "stale.txt", "old");
  CheckpointWriterOptions options;
  options.overwrite = true;
  CheckpointWriter writer(output_, source_, options);
  writer.add_tensor("model.norm.weight", at::ones({4}));
  writer.finish(nullptr);
  EXPECT_FALSE(std::filesystem::exists(output_ / "stale.txt"));
  EXPECT_TRUE(std::filesystem::exists(output_ / "model.safetensors"));
  EXPECT_EQ(siblings(), std::vector<std::string>{"out"});
  // No quantization_config: the source config is written unchanged.
  EXPECT_EQ(testing::read_json(output_ / "config.json"), testing::read_json(source_ / "config.json"));
}

TEST_F(Writer, ShardsAtTheSizeLimit) {
  CheckpointWriterOptions options;
  options.max_shard_bytes = 1000;
  CheckpointWriter writer(output_, source_, options);
  writer.add_tensor("a", at::ones({100}));    // 400 bytes
  writer.add_tensor("b", at::ones({100}));    // 800: still fits
  writer.add_tensor("c", at::ones({100}));    // 1200 > 1000: new shard
  writer.add_tensor("big", at::ones({400}));  // 1600 bytes alone
  writer.add_tensor("d", at::ones({10}, at::kInt));
  writer.finish(nullptr);

  EXPECT_TRUE(std::filesystem::exists(output_ / "model-00001-of-00004.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(output_ / "model-00004-of-00004.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(output_ / "model.safetensors"));
  const nlohmann::json index = testing::read_json(output_ / "model.safetensors.index.json");
  EXPECT_EQ(index.at("metadata").at("total_size"), 400 * 3 + 1600 + 40);
  EXPECT_EQ(index.at("weight_map").at("a"), "model-00001-of-00004.safetensors");
  EXPECT_EQ(index.at("weight_map").at("b"), "model-00001-of-00004.safetensors");
  EXPECT_EQ(index.at("weight_map").at("c"), "model-00002-of-00004.safetensors");
  EXPECT_EQ(index.at("weight_map").at("big"), "model-00003-of-00004.safetensors");
  EXPECT_EQ(index.at("weight_map").at("d"), "model-00004-of-00004.safetensors");
  const io::CheckpointReader reader(output_);
  EXPECT_EQ(reader.names(), (std::vector<std::string>{"a", "b", "big", "c", "d"}));
  EXPECT_TRUE(reader.load("big").equal(at::ones({400})));
  EXPECT_EQ(reader.info("d").dtype, io::DType::I32);
}

TEST_F(Writer, StoresUntouchedTensorsInModelDtype) {
  source_ = testing::make_source_model(scratch_.path() / "bf16", "bfloat16");
  CheckpointWriter writer(output_, source_);
  EXPECT_EQ(writer.model_dtype(), at::kBFloat16);
  at::Tensor norm = at::full({4}, 1.5f, at::kBFloat16);  // already in the model dtype: no conversion copy
  writer.add_tensor("model.norm.weight", norm);
  norm.fill_(7.0f);  // later changes to the caller's tensor are not written
  writer.add_tensor("position_ids", at::arange(4, at::kLong));
  writer.add_tensor("forced_f32", at::ones({2}), io::DType::F32);
  writer.add_tensor("fp8", at::tensor(std::vector<float>{1.0f, -2.0f}), io::DType::F8_E4M3);
  writer.finish(nullptr);
  const io::CheckpointReader reader(output_);
  EXPECT_EQ(reader.info("model.norm.weight").dtype, io::DType::BF16);
  EXPECT_EQ(reader.load("model.norm.weight").to(at::kFloat)[0].item<float>(), 1.5f);
  EXPECT_EQ(reader.info("position_ids").dtype, io::DType::I64);
  EXPECT_EQ(reader.info("forced_f32").dtype, io::DType::F32);
  EXPECT_EQ(reader.info("fp8").dtype, io::DType::F8_E4M3);
  EXPECT_EQ(reader.load("fp8")[0].item<uint8_t>(), 0x38);
  EXPECT_EQ(reader.load("fp8")[1].item<uint8_t>(), 0xC0);
}

// dcomp oneshot's writer (refuse_non_finite) refuses a tensor holding a NaN or an infinity as
// it would be stored, naming it and the first bad value; nothing is left behind.
TEST_F(Writer, RefusesNonFiniteValuesAsStored) {
  CheckpointWriterOptions options;
  options.refuse_non_finite = true;
  {
    CheckpointWriter writer(output_, source_, options);
    writer.add_tensor("model.norm.weight", at::ones({4}));
    at::Tensor scale = at::ones({3, 2});
    scale[2][1] = std::numeric_limits<float>::quiet_NaN();
    try {
      writer.add_tensor("model.layers.0.mlp.down_proj.weight_scale", scale);
      ADD_FAILURE() << "a NaN scale was accepted";
    } catch (const quant::NonFiniteError& e) {
      EXPECT_STREQ(e.what(), "model.layers.0.mlp.down_proj.weight_scale holds 1 non-finite value (at [2, 1]: nan); "
                             "refusing to write a checkpoint holding it");
    }
    // 0x7F is E4M3FN's NaN (S.1111.111); 0x7E (448) is its largest finite value.
    writer.add_tensor("fp8_finite", at::tensor(std::vector<uint8_t>{0x38, 0x7E, 0xFE}), io::DType::F8_E4M3);
    EXPECT_THROW(writer.add_tensor("fp8_nan", at::tensor(std::vector<uint8_t>{0x38, 0x7F}), io::DType::F8_E4M3),
                 quant::NonFiniteError);
  }
  EXPECT_TRUE(siblings().empty());
}

// A finite fp32 value above float16's largest (65504) becomes infinite in a float16 model.
TEST_F(Writer, RefusesValuesTheModelDtypeCannotHold) {
  source_ = testing::make_source_model(scratch_.path() / "fp16", "float16");
  CheckpointWriterOptions options;
  options.refuse_non_finite = true;
  CheckpointWriter writer(output_, source_, options);
  writer.add_tensor("fits", at::full({2}, 65504.0f));
  try {
    writer.add_tensor("overflows", at::tensor(std::vector<float>{1.0f, 1.0e5f}));
    ADD_FAILURE() << "an overflowing value was accepted";
  } catch (const quant::NonFiniteError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("overflows holds 1 non-finite value (at [1]: inf)", 0), 0u) << e.what();
  }
}

// Without the option (convert-gguf, tests) the writer stores what it is given.
TEST_F(Writer, StoresNonFiniteValuesUnlessAskedToRefuse) {
  CheckpointWriter writer(output_, source_);
  writer.add_tensor("nan", at::full({2}, std::numeric_limits<float>::quiet_NaN()));
  writer.finish(nullptr);
  EXPECT_TRUE(io::CheckpointReader(output_).load("nan").isnan().all().item<bool>());
}

TEST_F(Writer, RejectsSourceWithoutConfig) {
  std::filesystem::remove(source_ / "config.json");
  EXPECT_THROW(CheckpointWriter(output_, source_), CheckpointWriteError);
  EXPECT_TRUE(siblings().empty());
}

}  // namespace
}  // namespace dcomp::ct
