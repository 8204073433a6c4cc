// dcomp oneshot end to end on the real models in ../shared/data: GPTQ against
// round-to-nearest on every Linear, data-free RTN, SparseGPT 2:4 patterns,
// SmoothQuant's exactness, and input errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <fstream>

#include "actors/oneshot_actors.hpp"
#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/io/safetensors.hpp"
#include "lifecycle/errors.hpp"
#include "support/fp8_block_model.hpp"
#include "support/shared_data.hpp"

namespace dcomp::pipeline {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

struct OneshotTest : ::testing::Test {
  fs::path scratch;
  std::unique_ptr<comm::Communicator> comm = comm::make_single_communicator();

  void SetUp() override {
    scratch = fs::temp_directory_path() /
              ("dcomp_oneshot_" + std::to_string(::getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(scratch);
    fs::create_directories(scratch);
  }
  void TearDown() override { fs::remove_all(scratch); }

  fs::path write_recipe(const std::string& text) {
    fs::path path = scratch / "recipe.yaml";
    std::ofstream(path) << text;
    return path;
  }
  /// A run of `recipe_text` on TinyStories-656K with 16 calibration samples of 128 tokens.
  OneshotOptions calibrated_run(const fs::path& data, const std::string& recipe_text) {
    OneshotOptions options;
    options.model = data / "tinystories-656k";
    options.recipe = write_recipe(recipe_text).string();
    options.dataset = data / "text" / "tinystories_valid_sample.txt";
    options.num_calibration_samples = 16;
    options.max_seq_length = 128;
    options.output = scratch / "out";
    return options;
  }
};

void expect_gptq_beats_rtn(const OneshotResult& result, size_t expected_modules) {
  size_t checked = 0;
  for (const auto& layer : result.layers) {
    for (const auto& error : layer.errors) {
      EXPECT_LT(error.compressed, error.round_to_nearest) << error.name;
      EXPECT_GT(error.compressed, 0.0) << error.name;
      ++checked;
    }
  }
  EXPECT_EQ(checked, expected_modules);
}

TEST_F(OneshotTest, GptqW4A16BeatsRoundToNearestOnEveryLinearOfTinyStories) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  for (int group : {128, 32}) {
    OneshotOptions options;
    options.model = data / "tinystories-656k";
    options.recipe = write_recipe(
        "quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n      ignore: [lm_head]\n      config_groups:\n"
        "        group_0:\n          targets: [Linear]\n          weights: {num_bits: 4, type: int, symmetric: true, "
        "strategy: group, group_size: " + std::to_string(group) + "}\n").string();
    options.dataset = data / "text" / "tinystories_valid_sample.txt";
    options.num_calibration_samples = 32;
    options.max_seq_length = 256;
    options.output = scratch / ("out" + std::to_string(group));
    options.pipeline.compare_round_to_nearest = true;
    auto result = actors::run_oneshot(options, *comm);
    expect_gptq_beats_rtn(result, 2 * 7);
    io::CheckpointReader reader(options.output);
    auto packed = reader.load("model.layers.0.mlp.down_proj.weight_packed");
    EXPECT_EQ(packed.scalar_type(), at::kInt);
    EXPECT_EQ(packed.sizes(), (std::vector<int64_t>{128, 384 / 8}));
    EXPECT_EQ(reader.load("model.layers.0.mlp.down_proj.weight_scale").sizes(),
              (std::vector<int64_t>{128, 384 / group}));
    EXPECT_FALSE(reader.contains("model.layers.0.mlp.down_proj.weight_zero_point"));
  }
}

TEST_F(OneshotTest, GptqChannelW4BeatsRoundToNearestOnEveryLinearOfStories260k) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  OneshotOptions options;
  options.model = data / "stories260k";
  // hidden 64 and intermediate 172 share no useful group size: quantize per channel.
  options.recipe = write_recipe(
      "quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n      ignore: [lm_head]\n      config_groups:\n"
      "        group_0:\n          targets: [Linear]\n          weights: {num_bits: 4, type: int, symmetric: true, "
      "strategy: channel}\n").string();
  options.dataset = data / "text" / "tinystories_valid_sample.txt";
  options.num_calibration_samples = 32;
  options.max_seq_length = 256;
  options.output = scratch / "out";
  options.pipeline.compare_round_to_nearest = true;
  auto result = actors::run_oneshot(options, *comm);
  expect_gptq_beats_rtn(result, 5 * 7);
}

TEST_F(OneshotTest, RoundToNearestIsDataFree) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  OneshotOptions options;
  options.model = data / "tinystories-656k";
  options.scheme = "W8A8";
  options.algorithm = "rtn";
  options.output = scratch / "out";
  auto result = actors::run_oneshot(options, *comm);
  io::CheckpointReader reader(options.output);
  auto weight = reader.load("model.layers.1.self_attn.q_proj.weight");
  EXPECT_EQ(weight.scalar_type(), at::kChar);
  EXPECT_EQ(reader.load("model.layers.1.self_attn.q_proj.weight_scale").sizes(), (std::vector<int64_t>{128, 1}));
  // Independent check of the integers: round(W / scale) with scale = absmax / 127.5 per row.
  io::CheckpointReader source(options.model);
  at::Tensor w = source.load("model.layers.1.self_attn.q_proj.weight").to(at::kFloat);
  at::Tensor scale = std::get<0>(w.abs().max(1, true)) / 127.5;
  at::Tensor expected = at::clamp(at::round(w / scale), -128, 127).to(at::kChar);
  EXPECT_TRUE(at::equal(weight, expected));
}

TEST_F(OneshotTest, SparseGpt24LeavesTwoZerosInEveryFour) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const OneshotOptions options = calibrated_run(
      data, "sparsity_stage:\n  sparsity_modifiers:\n    SparseGPTModifier:\n      sparsity: 0.5\n"
            "      mask_structure: '2:4'\n      targets: [Linear]\n      ignore: [lm_head]\n");
  actors::run_oneshot(options, *comm);
  io::CheckpointReader reader(options.output);
  for (const char* name : {"model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.down_proj.weight"}) {
    at::Tensor w = reader.load(name).to(at::kFloat);
    at::Tensor zeros_per_group = (w.reshape({w.size(0), -1, 4}) == 0).sum(-1);
    EXPECT_TRUE((zeros_per_group >= 2).all().item<bool>()) << name;
  }
  // By default a pruned model is a plain checkpoint: no sparsity_config, which vLLM 0.32
  // refuses, and no quantization_config at all when nothing is quantized.
  const nlohmann::json config = nlohmann::json::parse(std::ifstream(options.output / "config.json"));
  EXPECT_FALSE(config.contains("quantization_config")) << config.dump();
}

// llm-compressor's SparseGPT tests select decoder layers, whose Linears are pruned.
TEST_F(OneshotTest, SparseGptTargetsThatNameADecoderLayerPruneItsLinears) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  OneshotOptions options = calibrated_run(
      data, "test_stage:\n  obcq_modifiers:\n    SparseGPTModifier:\n      sparsity: 0.5\n      block_size: 128\n"
            "      mask_structure: \"0:0\"\n      targets: [\"re:.*model.layers.0$\"]\n"
            "      sequential_targets: [LlamaDecoderLayer]\n");
  options.sparsity_config = true;
  actors::run_oneshot(options, *comm);
  io::CheckpointReader reader(options.output);
  const std::vector<std::string> linears = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                                            "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
  nlohmann::json expected_targets = nlohmann::json::array();
  for (const std::string& linear : linears) {
    const double layer0 = (reader.load("model.layers.0." + linear + ".weight") == 0).to(at::kDouble).mean().item<double>();
    const double layer1 = (reader.load("model.layers.1." + linear + ".weight") == 0).to(at::kDouble).mean().item<double>();
    EXPECT_NEAR(layer0, 0.5, 0.02) << linear;
    EXPECT_LT(layer1, 0.01) << linear;
    expected_targets.push_back("model.layers.0." + linear);
  }
  const nlohmann::json config = nlohmann::json::parse(std::ifstream(options.output / "config.json"));
  EXPECT_EQ(config.at("quantization_config").at("sparsity_config").at("targets"), expected_targets);
}

TEST_F(OneshotTest, SparseGptSequentialTargetsOtherThanDecoderLayersAreRefused) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const OneshotOptions options = calibrated_run(
      data, "s_stage:\n  s_modifiers:\n    SparseGPTModifier:\n      sparsity: 0.5\n      targets: [Linear]\n"
            "      ignore: [lm_head]\n      sequential_targets: [\"re:.*self_attn$\"]\n");
  try {
    actors::run_oneshot(options, *comm);
    FAIL();
  } catch (const lifecycle::RecipeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("do not name the decoder layers of LlamaForCausalLM"));
    EXPECT_THAT(e.what(), HasSubstr("LlamaDecoderLayer"));
  }
  EXPECT_FALSE(fs::exists(options.output));
}

// A 2:4-pruned model quantized again: GPTQ's error compensation fills pruned weights,
// unless ConstantPruningModifier (recipe as llm-compressor writes it: parameter-name
// targets) keeps the zeros. Compared in the int8 weights of the W8A8 checkpoint.
TEST_F(OneshotTest, ConstantPruningKeepsAPrunedModelsZerosThroughGptq) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  OneshotOptions sparse = calibrated_run(
      data, "sparsity_stage:\n  sparsity_modifiers:\n    SparseGPTModifier:\n      sparsity: 0.5\n"
            "      mask_structure: '2:4'\n      targets: [Linear]\n      ignore: [lm_head]\n");
  sparse.output = scratch / "sparse";
  actors::run_oneshot(sparse, *comm);
  const std::string gptq =
      "    GPTQModifier:\n      ignore: [lm_head]\n      config_groups:\n        group_0:\n"
      "          targets: [Linear]\n          weights: {num_bits: 8, type: int, symmetric: true, strategy: channel}\n"
      "          input_activations: {num_bits: 8, type: int, symmetric: true, strategy: token, dynamic: true}\n";
  const std::string keep =
      "  pruning_modifiers:\n    ConstantPruningModifier:\n      targets: ['re:.*q_proj.weight', 're:.*k_proj.weight', "
      "'re:.*v_proj.weight', 're:.*o_proj.weight', 're:.*gate_proj.weight', 're:.*up_proj.weight', "
      "'re:.*down_proj.weight']\n      start: 0\n";
  std::map<bool, double> two_of_four;  // with ConstantPruningModifier → fraction of groups of 4 with 2 zeros
  for (const bool with_constant_pruning : {true, false}) {
    OneshotOptions quantize =
        calibrated_run(data, "quant_stage:\n" + (with_constant_pruning ? keep : std::string()) + "  quant_modifiers:\n" + gptq);
    quantize.model = sparse.output;
    quantize.output = scratch / (with_constant_pruning ? "kept" : "plain");
    actors::run_oneshot(quantize, *comm);
    io::CheckpointReader reader(quantize.output);
    at::Tensor w = reader.load("model.layers.1.mlp.down_proj.weight");
    ASSERT_EQ(w.scalar_type(), at::kChar);
    two_of_four[with_constant_pruning] =
        ((w.reshape({w.size(0), -1, 4}) == 0).sum(-1) >= 2).to(at::kDouble).mean().item<double>();
  }
  EXPECT_EQ(two_of_four[true], 1.0);
  EXPECT_LT(two_of_four[false], 0.99);
}

TEST_F(OneshotTest, ExistingOutputIsRefusedBeforeAnyWork) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  OneshotOptions options;
  options.model = data / "tinystories-656k";
  options.scheme = "W4A16";
  options.output = scratch / "exists";
  fs::create_directories(options.output);
  try {
    actors::run_oneshot(options, *comm);
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_THAT(e.what(), HasSubstr("the output folder already exists"));
  }
}

TEST_F(OneshotTest, GptqWithoutDatasetIsAClearError) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  OneshotOptions options;
  options.model = data / "tinystories-656k";
  options.scheme = "W4A16";
  options.output = scratch / "out";
  try {
    actors::run_oneshot(options, *comm);
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_THAT(e.what(), HasSubstr("needs calibration data"));
  }
  EXPECT_FALSE(fs::exists(options.output));
}

TEST_F(OneshotTest, RecipeErrorsNameTheLine) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  OneshotOptions options;
  options.model = data / "tinystories-656k";
  options.recipe = write_recipe("quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n      scheme: W4A16\n"
                                "      blocksize: 64\n").string();
  options.output = scratch / "out";
  try {
    actors::run_oneshot(options, *comm);
    FAIL();
  } catch (const lifecycle::RecipeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("recipe.yaml:5:7: GPTQModifier has no argument 'blocksize'"));
    EXPECT_THAT(e.what(), HasSubstr("block_size"));
  }
  EXPECT_FALSE(fs::exists(options.output));
}

TEST_F(OneshotTest, GroupSizeThatDoesNotDivideIsRejected) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  OneshotOptions options;
  options.model = data / "stories260k";
  options.scheme = "W4A16";  // group 128 does not divide hidden 64
  options.output = scratch / "out";
  try {
    actors::run_oneshot(options, *comm);
    FAIL();
  } catch (const lifecycle::RecipeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not divisible by group_size 128"));
  }
}

// stories260K's down_proj has 172 inputs: with bypass_divisibility_checks set, group 32
// is still refused at initialize (dcomp has no partial last group), not after calibration.
TEST_F(OneshotTest, BypassedDivisibilityIsRefusedBeforeCalibration) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  OneshotOptions options;
  options.model = data / "stories260k";
  options.dataset = data / "text" / "tinystories_valid_sample.txt";
  options.recipe = write_recipe(
                       "quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n      ignore: [lm_head]\n"
                       "      bypass_divisibility_checks: true\n      config_groups:\n        group_0:\n"
                       "          targets: [Linear]\n          weights: {num_bits: 4, type: int, symmetric: true, "
                       "strategy: group, group_size: 32}\n")
                       .string();
  options.output = scratch / "out";
  try {
    actors::run_oneshot(options, *comm);
    FAIL();
  } catch (const lifecycle::RecipeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("down_proj has 172 input features, not divisible by group_size 32"));
    EXPECT_THAT(e.what(), HasSubstr("does not quantize a partial last group"));
  }
  EXPECT_FALSE(fs::exists(options.output));
  for (const auto& entry : fs::directory_iterator(scratch)) {
    EXPECT_EQ(entry.path().filename().string().find("out.tmp-"), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace dcomp::pipeline

namespace dcomp::pipeline {
namespace {

// An FP8 block release (TinyStories-656K rewritten as DeepSeek-V3 / Qwen3 -FP8 are released,
// blocks of 48 × 40 so that edge blocks are partial) re-quantized to W4A16: the same checkpoint,
// tensor for tensor, as the same weights dequantized by a plain loop and given as a dense model;
// the output carries only the new quantization_config and the report names the input format.
TEST_F(OneshotTest, Fp8BlockReleaseIsRequantizedAsItsDequantizedWeights) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const dcomp::testing::Fp8BlockModels models =
      dcomp::testing::write_fp8_block_models(data / "tinystories-656k", scratch / "models", 48, 40);
  OneshotOptions from_fp8 = calibrated_run(data, "quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n"
                                                 "      scheme: W4A16\n      targets: [Linear]\n      ignore: [lm_head]\n");
  from_fp8.model = models.fp8;
  from_fp8.output = scratch / "from-fp8";
  OneshotOptions from_reference = from_fp8;
  from_reference.model = models.reference;
  from_reference.output = scratch / "from-reference";
  const OneshotResult result = actors::run_oneshot(from_fp8, *comm);
  actors::run_oneshot(from_reference, *comm);
  EXPECT_EQ(result.report.at("input_format"), "fp8 blocks [48, 40]");
  const io::CheckpointReader a(from_fp8.output), b(from_reference.output);
  ASSERT_EQ(a.names(), b.names());
  for (const std::string& name : a.names()) EXPECT_TRUE(at::equal(a.load(name), b.load(name))) << name;
  const nlohmann::json config = nlohmann::json::parse(std::ifstream(from_fp8.output / "config.json"));
  EXPECT_EQ(config.at("quantization_config").at("quant_method"), "compressed-tensors");
  EXPECT_FALSE(config.at("quantization_config").contains("weight_block_size"));
}

// Block scales that do not match the declared block size are refused before any work, naming
// the file and the tensor (the grid is never used to guess the block, as transformers 5.17 does).
TEST_F(OneshotTest, Fp8BlockScalesOfTheWrongGridAreRefusedAtTheStart) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const dcomp::testing::Fp8BlockModels models =
      dcomp::testing::write_fp8_block_models(data / "tinystories-656k", scratch / "models", 48, 40);
  nlohmann::json config = nlohmann::json::parse(std::ifstream(models.fp8 / "config.json"));
  config["quantization_config"]["weight_block_size"] = {64, 64};
  std::ofstream(models.fp8 / "config.json") << config.dump(2);
  OneshotOptions options = calibrated_run(data, "quant_stage:\n  quant_modifiers:\n    QuantizationModifier:\n"
                                                "      scheme: W4A16\n      targets: [Linear]\n");
  options.model = models.fp8;
  EXPECT_THAT([&] { actors::run_oneshot(options, *comm); },
              ::testing::Throws<std::exception>(::testing::Property(
                  &std::exception::what,
                  ::testing::AllOf(HasSubstr("model.safetensors"), HasSubstr("weight_scale_inv\" has shape [3, 4]"),
                                   HasSubstr("in blocks of [64, 64] needs [2, 2]")))));
  EXPECT_FALSE(fs::exists(options.output));
}

// A compressed-tensors input (INT4 pack-quantized, as Kimi-K2-Thinking is released) re-quantized
// to NVFP4A16: the same checkpoint as from the same weights decompressed and given as a dense
// model, each Linear decompressed only when its layer is read.
TEST_F(OneshotTest, CompressedTensorsInputIsRequantizedAsItsDecompressedWeights) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  OneshotOptions int4 = calibrated_run(data, "quant_stage:\n  quant_modifiers:\n    QuantizationModifier:\n"
                                             "      scheme: W4A16\n      targets: [Linear]\n      ignore: [lm_head]\n");
  int4.output = scratch / "int4";
  actors::run_oneshot(int4, *comm);
  // The dense reference: every tensor as stored, each Linear decompressed by the same decoder
  // eval uses (checked against compressed-tensors in tests/ct).
  const fs::path dense = scratch / "int4-dense";
  fs::create_directories(dense);
  const io::CheckpointReader compressed(int4.output);
  const model::LinearLoader decompress = ct::make_linear_loader(int4.output);
  std::vector<io::NamedTensor> tensors;
  std::set<std::string> linears;
  for (const std::string& name : compressed.names()) {
    const size_t dot = name.rfind('.');
    const std::string module = name.substr(0, dot);
    if (name.rfind("model.layers.", 0) == 0 && module.find("_proj") != std::string::npos) {
      if (linears.insert(module).second) tensors.push_back({module + ".weight", decompress(module).weight, std::nullopt});
      continue;
    }
    tensors.push_back({name, compressed.load(name).contiguous(), std::nullopt});
  }
  io::write_safetensors(dense / "model.safetensors", tensors);
  for (const char* file : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"}) {
    if (fs::exists(int4.output / file)) fs::copy_file(int4.output / file, dense / file);
  }
  nlohmann::json config = nlohmann::json::parse(std::ifstream(int4.output / "config.json"));
  config.erase("quantization_config");
  std::ofstream(dense / "config.json") << config.dump(2);

  OneshotOptions from_int4 = calibrated_run(data, "quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n"
                                                  "      scheme: NVFP4A16\n      targets: [Linear]\n"
                                                  "      ignore: [lm_head]\n");
  from_int4.model = int4.output;
  from_int4.output = scratch / "from-int4";
  OneshotOptions from_dense = from_int4;
  from_dense.model = dense;
  from_dense.output = scratch / "from-dense";
  const OneshotResult result = actors::run_oneshot(from_int4, *comm);
  actors::run_oneshot(from_dense, *comm);
  EXPECT_EQ(result.report.at("input_format"), "compressed-tensors (pack-quantized)");
  const io::CheckpointReader a(from_int4.output), b(from_dense.output);
  ASSERT_EQ(a.names(), b.names());
  for (const std::string& name : a.names()) EXPECT_TRUE(at::equal(a.load(name), b.load(name))) << name;
  const nlohmann::json out = nlohmann::json::parse(std::ifstream(from_int4.output / "config.json"));
  EXPECT_EQ(out.at("quantization_config").at("format"), "nvfp4-pack-quantized");
}

// A checkpoint quantized some other way is refused at the start, naming its config and method.
TEST_F(OneshotTest, OtherQuantizedInputsAreRefusedByName) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const fs::path model = scratch / "awq-model";
  fs::copy(data / "tinystories-656k", model);
  nlohmann::json config = nlohmann::json::parse(std::ifstream(model / "config.json"));
  config["quantization_config"] = {{"quant_method", "awq"}, {"bits", 4}};
  std::ofstream(model / "config.json") << config.dump(2);
  OneshotOptions options = calibrated_run(data, "quant_stage:\n  quant_modifiers:\n    QuantizationModifier:\n"
                                                "      scheme: W4A16\n      targets: [Linear]\n");
  options.model = model;
  EXPECT_THAT([&] { actors::run_oneshot(options, *comm); },
              ::testing::ThrowsMessage<std::invalid_argument>(::testing::HasSubstr("quant_method \"awq\"")));
  EXPECT_FALSE(fs::exists(options.output));
}

}  // namespace
}  // namespace dcomp::pipeline
