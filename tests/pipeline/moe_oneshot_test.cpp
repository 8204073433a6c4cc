// dcomp oneshot on the tiny mixture-of-experts fixtures made by transformers
// (tests/model/fixtures/{mixtral,qwen3_moe,deepseek_v3}): GPTQ against round-to-nearest on every
// expert (and on DeepSeek-V3's latent attention and shared experts), the tokens counted per expert
// against the routing's own total, routers (and DeepSeek-V3's score correction bias) left
// unquantized by "Linear" targets, and selected by a target naming them; compressed-tensors INT4
// inputs of the DeepSeek-V3 and GLM-4.5 fixtures re-quantized to NVFP4A16.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <map>
#include <fstream>
#include <numeric>
#include <string>

#include <set>

#include <nlohmann/json.hpp>

#include "actors/oneshot_actors.hpp"
#include "kernels/ct/compressed_checkpoint.hpp"
#include "support/fp8_block_model.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/model_config.hpp"

namespace dcomp::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr size_t kSamples = 24;
constexpr size_t kSequence = 64;

struct MoeOneshotTest : ::testing::TestWithParam<std::string> {
  fs::path scratch;
  std::unique_ptr<comm::Communicator> comm = comm::make_single_communicator();

  void SetUp() override {
    scratch = fs::temp_directory_path() / ("dcomp_moe_" + std::to_string(::getpid()) + "_" + GetParam());
    fs::remove_all(scratch);
    fs::create_directories(scratch);
  }
  void TearDown() override { fs::remove_all(scratch); }

  fs::path model() const { return fs::path(DCOMP_SOURCE_DIR) / "tests/model/fixtures" / GetParam(); }

  /// kSamples rows of kSequence token ids in [3, 128), a fixed pseudo-random sequence.
  fs::path write_ids() {
    const fs::path path = scratch / "ids.jsonl";
    std::ofstream out(path);
    uint64_t state = 12345;
    for (size_t row = 0; row < kSamples; ++row) {
      out << "{\"input_ids\": [1";
      for (size_t i = 1; i < kSequence; ++i) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        out << ", " << 3 + (state >> 33) % 125;
      }
      out << "]}\n";
    }
    return path;
  }

  OneshotOptions run_options(const std::string& recipe) {
    OneshotOptions options;
    options.model = model();
    const fs::path recipe_path = scratch / "recipe.yaml";
    std::ofstream(recipe_path) << recipe;
    options.recipe = recipe_path.string();
    options.dataset = write_ids();
    options.num_calibration_samples = kSamples;
    options.max_seq_length = kSequence;
    options.output = scratch / "out";
    options.overwrite = true;
    options.pipeline.compare_round_to_nearest = true;
    return options;
  }
};

const char* kChannelW4 =
    "quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n      ignore: [lm_head]\n      config_groups:\n"
    "        group_0:\n          targets: [Linear]\n          weights: {num_bits: 4, type: int, symmetric: true, "
    "strategy: channel}\n";

TEST_P(MoeOneshotTest, GptqBeatsRoundToNearestOnEveryExpertThatSawTokens) {
  const model::ModelConfig config = model::ModelConfig::from_dir(model());
  for (const bool all_experts : {true, false}) {
    OneshotOptions options = run_options(kChannelW4);
    options.pipeline.moe_calibrate_all_experts = all_experts;
    const OneshotResult result = actors::run_oneshot(options, *comm);
    size_t expert_modules = 0;
    for (const auto& layer : result.layers) {
      if (!config.is_sparse_layer(layer.layer)) {
        EXPECT_TRUE(layer.expert_tokens.empty());
        continue;
      }
      // Every token picks top_k distinct experts: the counts sum to top_k per calibration token.
      ASSERT_EQ(layer.expert_tokens.size(), static_cast<size_t>(config.moe->num_experts));
      const int64_t routed = std::accumulate(layer.expert_tokens.begin(), layer.expert_tokens.end(), int64_t{0});
      EXPECT_EQ(routed, static_cast<int64_t>(kSamples * kSequence) * config.moe->top_k) << "layer " << layer.layer;
      for (const auto& error : layer.errors) {
        const size_t experts_at = error.name.find(".experts.");
        if (experts_at == std::string::npos) {
          // Every token reaches the attention and shared-expert Linears.
          EXPECT_LT(error.compressed, error.round_to_nearest) << error.name;
          continue;
        }
        const int expert = std::stoi(error.name.substr(experts_at + 9));
        if (!all_experts && layer.expert_tokens[expert] == 0) continue;
        EXPECT_LT(error.compressed, error.round_to_nearest) << error.name << (all_experts ? " (all experts)" : "");
        EXPECT_GT(error.compressed, 0.0) << error.name;
        ++expert_modules;
      }
    }
    // Every expert Linear of every sparse layer was compared (with all experts calibrated).
    int64_t sparse_layers = 0;
    for (int64_t i = 0; i < config.num_hidden_layers; ++i) sparse_layers += config.is_sparse_layer(i);
    if (all_experts) EXPECT_EQ(expert_modules, static_cast<size_t>(sparse_layers * config.moe->num_experts * 3));
    EXPECT_GT(expert_modules, 0u);
  }
}

TEST_P(MoeOneshotTest, RoutersStayDenseUnderLinearTargetsAndAreQuantizedWhenNamed) {
  const model::ModelConfig config = model::ModelConfig::from_dir(model());
  const std::string layer = config.is_sparse_layer(0) ? "model.layers.0." : "model.layers.1.";  // a sparse one
  const std::string router = layer + (GetParam() == "mixtral" ? "block_sparse_moe.gate" : "mlp.gate");
  const std::string expert = layer + (GetParam() == "mixtral" ? "block_sparse_moe.experts.5.w2" : "mlp.experts.5.down_proj");
  {
    const OneshotOptions options = run_options(kChannelW4);
    actors::run_oneshot(options, *comm);
    io::CheckpointReader reader(options.output);
    EXPECT_TRUE(reader.contains(router + ".weight"));
    EXPECT_FALSE(reader.contains(router + ".weight_packed"));
    EXPECT_TRUE(reader.contains(expert + ".weight_packed"));
    EXPECT_EQ(reader.load(router + ".weight").sizes(), (std::vector<int64_t>{config.moe->num_experts, 64}));
    // Named in "ignore" after the recipe's entries, every dense router by layer: vLLM builds Qwen3-MoE's
    // router with the quantization config and would otherwise expect it quantized.
    std::vector<std::string> expected_ignore{"lm_head"};
    for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
      if (config.is_sparse_layer(i)) {
        expected_ignore.push_back("model.layers." + std::to_string(i) +
                                  (GetParam() == "mixtral" ? ".block_sparse_moe.gate" : ".mlp.gate"));
      }
    }
    const nlohmann::json written = nlohmann::json::parse(std::ifstream(options.output / "config.json"));
    EXPECT_EQ(written.at("quantization_config").at("ignore").get<std::vector<std::string>>(), expected_ignore);
    if (config.moe->score_correction_bias) {
      // Written as it was read (widened to F32, as transformers keeps it), next to its dense router.
      const io::CheckpointReader source(model());
      EXPECT_EQ(reader.info(router + ".e_score_correction_bias").dtype, io::DType::F32);
      EXPECT_TRUE(at::equal(reader.load(router + ".e_score_correction_bias"),
                            source.load(router + ".e_score_correction_bias").to(at::kFloat)));
      EXPECT_TRUE(reader.contains(layer + "mlp.shared_experts.down_proj.weight_packed"));
      if (config.latent_attention) {
        EXPECT_TRUE(reader.contains(layer + "self_attn.kv_b_proj.weight_packed"));
        EXPECT_TRUE(reader.contains(layer + "self_attn.kv_a_layernorm.weight"));
      }
    }
  }
  {
    // llm-compressor's MoE examples ignore the router by name; naming it as a target quantizes it.
    const std::string pattern = GetParam() == "mixtral" ? "re:.*block_sparse_moe.gate$" : "re:.*mlp.gate$";
    const OneshotOptions options = run_options(
        "quant_stage:\n  quant_modifiers:\n    QuantizationModifier:\n      ignore: [lm_head]\n      config_groups:\n"
        "        group_0:\n          targets: [Linear, '" + pattern + "']\n"
        "          weights: {num_bits: 8, type: int, symmetric: true, strategy: channel}\n");
    actors::run_oneshot(options, *comm);
    io::CheckpointReader reader(options.output);
    EXPECT_TRUE(reader.contains(router + ".weight_scale"));
    const nlohmann::json written = nlohmann::json::parse(std::ifstream(options.output / "config.json"));
    EXPECT_EQ(written.at("quantization_config").at("ignore"), nlohmann::json::array({"lm_head"}));
  }
}

// vLLM runs q_a_proj and kv_a_proj_with_mqa as one fused_qkv_a_proj (and q/k/v, gate/up as one
// Linear each) with one scheme: a recipe giving them different ones, or quantizing one of them
// only, is refused at initialize, before the output folder is made, naming both modules.
TEST_P(MoeOneshotTest, FusedLinearsQuantizedDifferentlyAreRefusedAtInitialize) {
  const model::ModelConfig config = model::ModelConfig::from_dir(model());
  const bool latent = config.latent_attention && config.latent_attention->q_lora_rank;
  const std::string first = latent ? "q_a_proj" : "q_proj";
  const std::string second = latent ? "kv_a_proj_with_mqa" : "k_proj";
  const std::string w4 = "{num_bits: 4, type: int, symmetric: true, strategy: channel}";
  const std::string w8 = "{num_bits: 8, type: int, symmetric: true, strategy: channel}";
  for (const std::string& recipe :
       {"quant_stage:\n  quant_modifiers:\n    QuantizationModifier:\n      ignore: [lm_head]\n      config_groups:\n"
        "        group_0:\n          targets: ['re:.*" + second + "$']\n          weights: " + w8 + "\n"
        "        group_1:\n          targets: [Linear]\n          weights: " + w4 + "\n",
        "quant_stage:\n  quant_modifiers:\n    QuantizationModifier:\n      ignore: [lm_head, 're:.*" + second + "$']\n"
        "      config_groups:\n        group_0:\n          targets: [Linear]\n          weights: " + w4 + "\n"}) {
    const OneshotOptions options = run_options(recipe);
    try {
      actors::run_oneshot(options, *comm);
      ADD_FAILURE() << GetParam() << ": a recipe quantizing " << first << " and " << second << " differently ran";
    } catch (const std::exception& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("model.layers.0.self_attn." + first + " and model.layers.0.self_attn." + second),
                std::string::npos) << message;
      EXPECT_NE(message.find("one fused Linear"), std::string::npos) << message;
    }
    EXPECT_FALSE(fs::exists(options.output)) << GetParam();
  }
}

// What SmoothQuant and AWQ default to on each mixture-of-experts architecture comes from its
// description: llm-compressor's attention-only SmoothQuant mappings for Mixtral and Qwen3-MoE,
// none for DeepSeek-V3 and GLM-4.5 (refused, saying so), and AWQ refused on all of them (its grid
// search replays attention and dense-MLP parents), before any output is made.
TEST_P(MoeOneshotTest, SmoothingDefaultsFollowTheArchitectureDescription) {
  const std::string architecture = model::architecture_name(model::ModelConfig::from_dir(model()).architecture);
  const auto refusal = [&](const std::string& recipe) -> std::string {
    const OneshotOptions options = run_options(recipe);
    try {
      actors::run_oneshot(options, *comm);
    } catch (const std::exception& error) {
      EXPECT_FALSE(fs::exists(options.output)) << GetParam();
      return error.what();
    }
    return "";
  };
  const std::string awq = refusal(
      "awq_stage:\n  awq_modifiers:\n    AWQModifier: {}\n    QuantizationModifier: {scheme: W4A16, ignore: [lm_head]}\n");
  EXPECT_NE(awq.find("AWQModifier is not supported for mixture-of-experts models (" + architecture + ")"),
            std::string::npos) << awq;
  const bool attention_mappings = GetParam() == "mixtral" || GetParam() == "qwen3_moe";
  if (!attention_mappings) {
    const std::string smoothquant = refusal(
        "sq_stage:\n  sq_modifiers:\n    SmoothQuantModifier: {smoothing_strength: 0.5}\n"
        "    QuantizationModifier: {scheme: W8A8, ignore: [lm_head]}\n");
    EXPECT_NE(smoothquant.find("SmoothQuantModifier: no default mappings for " + architecture +
                               "; give 'mappings' explicitly"),
              std::string::npos) << smoothquant;
  }
}

// DeepSeek-V3 as it is released (every decoder Linear, kv_a_proj_with_mqa included, in F8_E4M3
// with a weight_scale_inv per block of 16 × 16, partial at the 24-wide edges; routers, norms and
// the score correction bias as they were): re-quantized to W4 it gives, tensor for tensor, the
// checkpoint of the same weights dequantized by a plain loop and given as a dense model.
struct DeepseekReleaseOneshotTest : MoeOneshotTest {};

TEST_P(DeepseekReleaseOneshotTest, Fp8BlockReleaseIsRequantizedAsItsDequantizedWeights) {
  const dcomp::testing::Fp8BlockModels models = dcomp::testing::write_fp8_block_models(model(), scratch / "models", 16, 16);
  // The helper stores the other tensors in F32 and names float32 for the dense copy: the release too.
  nlohmann::json release_config = nlohmann::json::parse(std::ifstream(models.fp8 / "config.json"));
  release_config["torch_dtype"] = "float32";
  std::ofstream(models.fp8 / "config.json") << release_config.dump(2);
  OneshotOptions from_fp8 = run_options(kChannelW4);
  from_fp8.model = models.fp8;
  from_fp8.output = scratch / "from-fp8";
  OneshotOptions from_reference = from_fp8;
  from_reference.model = models.reference;
  from_reference.output = scratch / "from-reference";
  const OneshotResult result = actors::run_oneshot(from_fp8, *comm);
  actors::run_oneshot(from_reference, *comm);
  EXPECT_EQ(result.report.at("input_format"), "fp8 blocks [16, 16]");
  const io::CheckpointReader a(from_fp8.output), b(from_reference.output);
  ASSERT_EQ(a.names(), b.names());
  EXPECT_TRUE(a.contains("model.layers.1.self_attn.kv_a_proj_with_mqa.weight_packed"));
  for (const std::string& name : a.names()) {
    EXPECT_EQ(a.info(name).dtype, b.info(name).dtype) << name;
    EXPECT_TRUE(at::equal(a.load(name), b.load(name))) << name;
  }
}

// A compressed-tensors INT4 checkpoint (pack-quantized, one scale per channel; as Kimi-K2-Thinking
// is released) of a fixture, given to oneshot with NVFP4A16: the checkpoint equals, tensor for
// tensor, the run on the same weights decompressed by eval's decoder (tests/ct checks it against
// compressed-tensors) and given dense; the report names the input format; the input folder is
// unchanged and no dense copy of it is written anywhere beside it. The run compares each module
// with round-to-nearest, which for NVFP4 uses the module's global scale.
struct CompressedInputOneshotTest : MoeOneshotTest {};

// Every file of `folder` with its size and bytes (to tell that nothing in it changed).
std::map<std::string, std::string> folder_contents(const fs::path& folder) {
  std::map<std::string, std::string> contents;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    contents[fs::relative(entry.path(), folder).string()] = std::string(std::istreambuf_iterator<char>(in), {});
  }
  return contents;
}

// The dense reference: every tensor of `compressed` as stored, each compressed Linear decoded.
void write_decompressed(const fs::path& compressed, const fs::path& dense) {
  fs::create_directories(dense);
  const io::CheckpointReader reader(compressed);
  const model::LinearLoader decompress = ct::make_linear_loader(compressed);
  std::vector<io::NamedTensor> tensors;
  std::set<std::string> linears;
  for (const std::string& name : reader.names()) {
    const std::string module = name.substr(0, name.rfind('.'));
    if (name.rfind("model.layers.", 0) == 0 && module.find("_proj") != std::string::npos) {
      if (!linears.insert(module).second) continue;
      const model::LinearWeights weights = decompress(module);  // GLM-4.5's q/k/v have biases
      tensors.push_back({module + ".weight", weights.weight, std::nullopt});
      if (weights.bias.defined()) tensors.push_back({module + ".bias", weights.bias, std::nullopt});
      continue;
    }
    tensors.push_back({name, reader.load(name).contiguous(), std::nullopt});
  }
  io::write_safetensors(dense / "model.safetensors", tensors);
  nlohmann::json config = nlohmann::json::parse(std::ifstream(compressed / "config.json"));
  config.erase("quantization_config");
  std::ofstream(dense / "config.json") << config.dump(2);
}

TEST_P(CompressedInputOneshotTest, Int4InputIsRequantizedToNvfp4AsItsDecompressedWeights) {
  OneshotOptions int4 = run_options(kChannelW4);
  int4.output = scratch / "int4";
  actors::run_oneshot(int4, *comm);
  ASSERT_EQ(nlohmann::json::parse(std::ifstream(int4.output / "config.json")).at("quantization_config").at("format"),
            "pack-quantized");
  write_decompressed(int4.output, scratch / "dense");
  const auto input_before = folder_contents(int4.output);

  OneshotOptions from_int4 = run_options(
      "quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n      scheme: NVFP4A16\n      targets: [Linear]\n"
      "      ignore: [lm_head]\n");
  from_int4.model = int4.output;
  from_int4.output = scratch / "from-int4";
  const OneshotResult result = actors::run_oneshot(from_int4, *comm);
  EXPECT_EQ(result.report.at("input_format"), "compressed-tensors (pack-quantized)");
  // run_options compares with round-to-nearest: NVFP4's needs the module's global scale.
  for (const auto& layer : result.report.at("layers")) {
    ASSERT_FALSE(layer.at("modules").empty()) << layer.dump();
    for (const auto& module : layer.at("modules")) {
      EXPECT_GT(module.at("output_error_round_to_nearest").get<double>(), 0.0) << module.dump();
    }
  }
  EXPECT_TRUE(folder_contents(int4.output) == input_before) << "the compressed input changed";
  std::set<std::string> beside;
  for (const auto& entry : fs::directory_iterator(scratch)) beside.insert(entry.path().filename().string());
  EXPECT_EQ(beside, (std::set<std::string>{"dense", "from-int4", "ids.jsonl", "int4", "recipe.yaml"}));

  OneshotOptions from_dense = from_int4;
  from_dense.model = scratch / "dense";
  from_dense.output = scratch / "from-dense";
  actors::run_oneshot(from_dense, *comm);
  const io::CheckpointReader a(from_int4.output), b(from_dense.output);
  ASSERT_EQ(a.names(), b.names());
  EXPECT_TRUE(a.contains("model.layers.1.mlp.experts.0.down_proj.weight_packed"));
  EXPECT_TRUE(a.contains("model.layers.1.mlp.shared_experts.up_proj.weight_global_scale"));
  for (const std::string& name : a.names()) {
    EXPECT_EQ(a.info(name).dtype, b.info(name).dtype) << name;
    EXPECT_TRUE(at::equal(a.load(name), b.load(name))) << name;
  }
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(from_int4.output / "config.json")).at("quantization_config").at("format"),
            "nvfp4-pack-quantized");
}

INSTANTIATE_TEST_SUITE_P(Transformers517, MoeOneshotTest, ::testing::Values("mixtral", "qwen3_moe", "deepseek_v3", "glm4_moe"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Transformers519, DeepseekReleaseOneshotTest, ::testing::Values("deepseek_v3"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Transformers519, CompressedInputOneshotTest, ::testing::Values("deepseek_v3", "glm4_moe"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace dcomp::pipeline
