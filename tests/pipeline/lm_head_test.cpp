// Recipes of llm-compressor's tests that select lm_head or use actorder "group", run on
// the real models in ../shared/data: lm_head is compressed as the last subgraph (tied
// heads untied), a GPTQModifier without a scheme solves the schemes a
// QuantizationModifier declared, and weight_g_idx is written and read back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "actors/oneshot_actors.hpp"
#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/data/dataset.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/causal_lm.hpp"
#include "kernels/model/perplexity.hpp"
#include "kernels/tokenizer/tokenizer.hpp"
#include "lifecycle/errors.hpp"
#include "support/shared_data.hpp"

namespace dcomp::pipeline {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

struct LmHeadTest : ::testing::Test {
  fs::path scratch;
  std::unique_ptr<comm::Communicator> comm = comm::make_single_communicator();

  void SetUp() override {
    scratch = fs::temp_directory_path() /
              ("dcomp_lm_head_" + std::to_string(::getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(scratch);
    fs::create_directories(scratch);
  }
  void TearDown() override { fs::remove_all(scratch); }

  /// `recipe_text` on `model_dir`, calibrated on 16 samples of 128 tokens (unless data-free).
  OneshotOptions run(const fs::path& data, const fs::path& model_dir, const std::string& name,
                     const std::string& recipe_text, OneshotResult* result = nullptr) {
    OneshotOptions options;
    options.model = model_dir;
    const fs::path recipe = scratch / (name + ".yaml");
    std::ofstream(recipe) << recipe_text;
    options.recipe = recipe.string();
    options.dataset = data / "text" / "tinystories_valid_sample.txt";
    options.num_calibration_samples = 16;
    options.max_seq_length = 128;
    options.output = scratch / name;
    options.pipeline.compare_round_to_nearest = true;
    OneshotResult done = actors::run_oneshot(options, *comm);
    if (result) *result = std::move(done);
    return options;
  }
};

nlohmann::json read_json(const fs::path& path) { return nlohmann::json::parse(std::ifstream(path)); }

/// The source model's embedding and lm_head [vocab, hidden] fp32. A tied model holds one
/// matrix, under either name (TinyStories-656K keeps it as lm_head.weight).
std::pair<at::Tensor, at::Tensor> source_embedding_and_head(const fs::path& model_dir) {
  io::CheckpointReader reader(model_dir);
  const bool tied = read_json(model_dir / "config.json").value("tie_word_embeddings", false);
  const auto load = [&](const char* name, const char* otherwise) {
    return reader.load(reader.contains(name) ? name : otherwise).to(at::kFloat);
  };
  if (tied) {
    at::Tensor shared = load("model.embed_tokens.weight", "lm_head.weight");
    return {shared, shared};
  }
  return {reader.load("model.embed_tokens.weight").to(at::kFloat), reader.load("lm_head.weight").to(at::kFloat)};
}

double perplexity_of(const fs::path& data, const fs::path& model_dir) {
  auto tokenizer = tok::Tokenizer::from_dir(model_dir);
  const auto tokens = data::load_token_stream(data / "text" / "tinystories_sample.txt", tokenizer);
  const auto model = model::CausalLM::load(model_dir, ct::make_linear_loader(model_dir));
  return model::evaluate_perplexity(model, tokens, *tokenizer.bos_id(), 256).perplexity;
}

// QuantizationModifier on every Linear, lm_head included (no ignore): int8 weights per
// channel (stored int-quantized, with dynamic int8 activations), data-free. The head's codes and scales equal a brute-force symmetric int8 rounding of
// the source head; a tied model is untied with its embedding unchanged.
TEST_F(LmHeadTest, RoundToNearestHeadMatchesBruteForceOnTiedAndUntiedModels) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const std::string recipe =
      "test_stage:\n  quant_modifiers:\n    QuantizationModifier:\n      config_groups:\n        group_0:\n"
      "          weights: {num_bits: 8, type: int, symmetric: true, strategy: channel}\n"
      "          input_activations: {num_bits: 8, type: int, symmetric: true, strategy: token, dynamic: true}\n"
      "          targets: [\"Linear\"]\n";
  for (const std::string model : {"tinystories-656k", "stories260k"}) {
    SCOPED_TRACE(model);
    const fs::path source = data / model;
    const OneshotOptions options = run(data, source, model, recipe);
    io::CheckpointReader out(options.output);
    const auto [embedding, w] = source_embedding_and_head(source);          // [vocab, hidden] fp32
    const at::Tensor scale = w.abs().amax(1, /*keepdim=*/true) / 127.5;      // [vocab, 1]
    const at::Tensor codes = at::round(w / scale).clamp(-128, 127).to(at::kChar);
    ASSERT_TRUE(out.contains("lm_head.weight_scale"));
    EXPECT_TRUE(at::equal(out.load("lm_head.weight"), codes));
    EXPECT_TRUE(at::allclose(out.load("lm_head.weight_scale").to(at::kFloat), scale, 1e-6, 0));

    const nlohmann::json config = read_json(options.output / "config.json");
    EXPECT_FALSE(config.value("tie_word_embeddings", true));
    EXPECT_THAT(config["quantization_config"]["ignore"].dump(), ::testing::Not(HasSubstr("lm_head")));
    EXPECT_TRUE(at::equal(out.load("model.embed_tokens.weight").to(at::kFloat), embedding));
    // dcomp's loader reads the compressed head back as codes × scales.
    const auto loaded = model::CausalLM::load(options.output, ct::make_linear_loader(options.output));
    EXPECT_TRUE(at::allclose(loaded.embedding_and_head().lm_head, codes.to(at::kFloat) * scale, 1e-6, 1e-7));
    EXPECT_TRUE(static_cast<bool>(loaded.embedding_and_head().lm_head_input_quantizer));
    EXPECT_TRUE(at::equal(loaded.embedding_and_head().embed_tokens, embedding));
  }
}

// llm-compressor's tests/sparsity/sparsegpt/recipes/quant.yaml: SmoothQuant, then GPTQ
// W8A8 on every Linear with no ignore. lm_head is calibrated on the final norm's output
// after the last layer: its GPTQ output error is below round-to-nearest's on those
// inputs, and the tied model's checkpoint loads and evaluates close to the original.
TEST_F(LmHeadTest, GptqOnEveryLinearCalibratesTheHeadAfterTheLastLayer) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const fs::path source = data / "tinystories-656k";
  OneshotResult result;
  const OneshotOptions options =
      run(data, source, "w8a8",
          "quant_stage:\n  quant_modifiers:\n    SmoothQuantModifier:\n      smoothing_strength: 0.5\n"
          "    GPTQModifier:\n      block_size: 128\n      targets: [\"Linear\"]\n      scheme: W8A8\n",
          &result);
  const int layers = static_cast<int>(read_json(source / "config.json").at("num_hidden_layers"));
  ASSERT_EQ(result.layers.size(), static_cast<size_t>(layers + 1));
  const LayerReport& head = result.layers.back();
  EXPECT_EQ(head.layer, layers);
  ASSERT_EQ(head.errors.size(), 1u);
  EXPECT_EQ(head.errors[0].name, "lm_head");
  EXPECT_GT(head.errors[0].compressed, 0.0);
  EXPECT_LT(head.errors[0].compressed, head.errors[0].round_to_nearest);
  EXPECT_EQ(result.report.at("layers").size(), static_cast<size_t>(layers + 1));

  io::CheckpointReader out(options.output);
  EXPECT_EQ(out.load("lm_head.weight").scalar_type(), at::kChar);
  EXPECT_FALSE(read_json(options.output / "config.json").value("tie_word_embeddings", true));
  const double original = perplexity_of(data, source);
  const double compressed = perplexity_of(data, options.output);
  EXPECT_LT(std::abs(compressed / original - 1.0), 0.02) << original << " → " << compressed;
}

// SparseGPT with targets [Linear] and no ignore prunes lm_head too, as upstream does
// (its targets select lm_head like any Linear); the pruned head is stored dense.
TEST_F(LmHeadTest, SparseGptOnEveryLinearPrunesTheHead) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const OneshotOptions options =
      run(data, data / "tinystories-656k", "sparse",
          "sparsity_stage:\n  sparsity_modifiers:\n    SparseGPTModifier:\n      sparsity: 0.5\n"
          "      mask_structure: \"0:0\"\n      targets: [\"Linear\"]\n");
  io::CheckpointReader out(options.output);
  const at::Tensor head = out.load("lm_head.weight").to(at::kFloat);
  EXPECT_NEAR((head == 0).to(at::kDouble).mean().item<double>(), 0.5, 0.01);
  EXPECT_FALSE(read_json(options.output / "config.json").value("tie_word_embeddings", true));
  EXPECT_FALSE(at::equal(head, out.load("model.embed_tokens.weight").to(at::kFloat)));
}

// ConstantPruningModifier with __ALL_PRUNABLE__ selects lm_head too, but keeps its weight
// as it is: a tied model stays tied (no second copy of the embedding is written).
TEST_F(LmHeadTest, AHeadOnlyKeptByConstantPruningStaysTied) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const OneshotOptions options =
      run(data, data / "tinystories-656k", "kept",
          "pruning_stage:\n  pruning_modifiers:\n    ConstantPruningModifier:\n      targets: __ALL_PRUNABLE__\n"
          "quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n      ignore: [lm_head]\n      scheme: W8A16\n"
          "      targets: [Linear]\n");
  io::CheckpointReader out(options.output);
  EXPECT_FALSE(out.contains("lm_head.weight"));
  EXPECT_TRUE(read_json(options.output / "config.json").value("tie_word_embeddings", false));
}

// llm-compressor's new_quant_actorder_group.yaml as written: a QuantizationModifier
// declares W4 asymmetric groups of 128 with actorder "group", and a GPTQModifier with
// only block_size solves them. Each module stores weight_g_idx; every group holds
// exactly group_size columns, GPTQ's activation order permutes them, and each decoded
// row takes at most 16 levels within each group g_idx names.
TEST_F(LmHeadTest, ActorderGroupRecipeWritesAndReadsGroupIndices) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  OneshotResult result;
  const OneshotOptions options =
      run(data, data / "tinystories-656k", "actorder",
          "test_stage:\n    quant_modifiers:\n        QuantizationModifier:\n"
          "            ignore: [\"lm_head\", \"model.layers.0.mlp.down_proj\"]\n            config_groups:\n"
          "                group_0:\n                    weights:\n                        num_bits: 4\n"
          "                        type: \"int\"\n                        symmetric: False\n"
          "                        strategy: \"group\"\n                        group_size: 128\n"
          "                        actorder: \"group\"\n                    input_activations: null\n"
          "                    output_activations: null\n                    targets: [\"Linear\"]\n"
          "        GPTQModifier:\n            block_size: 128\n",
          &result);
  // The GPTQModifier compressed every quantized module; the QuantizationModifier none.
  std::set<std::string> by_gptq;
  for (const auto& layer : result.layers) {
    for (const auto& entry : layer.modifier_results) {
      ASSERT_NE(entry.value("modifier", ""), "QuantizationModifier") << entry.dump();
      for (const auto& name : entry.value("compressed", nlohmann::json::array())) by_gptq.insert(name);
    }
  }
  EXPECT_EQ(by_gptq.size(), 13u);  // 2 layers × 7 Linears, less layers.0.mlp.down_proj
  EXPECT_FALSE(by_gptq.count("model.layers.0.mlp.down_proj"));

  ct::CompressedCheckpoint checkpoint(options.output);
  const io::CheckpointReader& reader = checkpoint.reader();
  bool some_permuted = false;
  for (const std::string& name : by_gptq) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(reader.contains(name + ".weight_g_idx"));
    const at::Tensor g_idx = reader.load(name + ".weight_g_idx").to(at::kLong);  // [in]
    const at::Tensor w = checkpoint.load_linear(name).weight;                    // [out, in] fp32
    ASSERT_EQ(g_idx.size(0), w.size(1));
    const int64_t groups = w.size(1) / 128;
    EXPECT_TRUE(at::equal(at::bincount(g_idx, {}, groups), at::full({groups}, 128, at::kLong)));
    some_permuted = some_permuted || !at::equal(g_idx, at::arange(w.size(1), at::kLong).div(128, "floor"));
    for (int64_t g = 0; g < groups; ++g) {
      const at::Tensor columns = w.index_select(1, (g_idx == g).nonzero().squeeze(1));  // [out, 128]
      for (int64_t row = 0; row < w.size(0); row += 17) {
        EXPECT_LE(std::get<0>(at::_unique(columns[row])).numel(), 16) << "row " << row << " group " << g;
      }
    }
  }
  EXPECT_TRUE(some_permuted);
}

// The same scheme with round-to-nearest alone: no columns are reordered, so each
// column's group index is its own, c / group_size.
TEST_F(LmHeadTest, RoundToNearestWithActorderGroupStoresEachColumnsOwnGroup) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const OneshotOptions options =
      run(data, data / "tinystories-656k", "rtn",
          "test_stage:\n  quant_modifiers:\n    QuantizationModifier:\n      ignore: [lm_head]\n"
          "      config_groups:\n        group_0:\n          weights: {num_bits: 4, type: int, symmetric: false, "
          "strategy: group, group_size: 128, actorder: group}\n          targets: [Linear]\n");
  io::CheckpointReader reader(options.output);
  const at::Tensor g_idx = reader.load("model.layers.1.mlp.down_proj.weight_g_idx").to(at::kLong);
  EXPECT_TRUE(at::equal(g_idx, at::arange(g_idx.size(0), at::kLong).div(128, "floor")));
}

// Embeddings are not Linear modules: refused at initialize, before any calibration, with
// nothing left behind (llm-compressor's new_quant_simple.yaml selects them).
TEST_F(LmHeadTest, EmbeddingTargetsAreRefusedBeforeCalibration) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  try {
    run(data, data / "tinystories-656k", "embedding",
        "test_stage:\n  quant_modifiers:\n    QuantizationModifier:\n      ignore: [lm_head]\n      config_groups:\n"
        "        group_0:\n          weights: {num_bits: 8, symmetric: true, strategy: tensor}\n"
        "          targets: [\"Embedding\"]\n");
    ADD_FAILURE() << "ran";
  } catch (const lifecycle::RecipeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("select model.embed_tokens (Embedding)"));
    EXPECT_THAT(e.what(), HasSubstr("Linear modules only"));
    EXPECT_THAT(e.what(), HasSubstr("to ignore"));
  }
  EXPECT_FALSE(fs::exists(scratch / "embedding"));
  for (const auto& entry : fs::directory_iterator(scratch)) {
    EXPECT_EQ(entry.path().filename().string().find("embedding.tmp-"), std::string::npos) << entry.path();
  }
}

// A GPTQModifier with neither scheme nor config_groups, and no QuantizationModifier
// before it, has nothing to apply: refused at initialize.
TEST_F(LmHeadTest, GptqWithoutAnySchemeIsRefusedAtInitialize) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  try {
    run(data, data / "tinystories-656k", "none", "quant_stage:\n  quant_modifiers:\n    GPTQModifier:\n      block_size: 128\n");
    ADD_FAILURE() << "ran";
  } catch (const lifecycle::RecipeError& e) {
    EXPECT_THAT(e.what(), HasSubstr("has no quantization scheme"));
  }
}

}  // namespace
}  // namespace dcomp::pipeline
