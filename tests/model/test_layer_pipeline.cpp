// The layer-by-layer path (embedding → each decoder_layer_forward → final norm
// and head, each layer loaded on its own) equals CausalLM's logits, and the
// Linear-input hook reports each distinct input once with the true values.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <iostream>

#include "kernels/io/safetensors.hpp"
#include "kernels/model/causal_lm.hpp"
#include "kernels/model/decoder_layer.hpp"
#include "kernels/model/embedding_and_head.hpp"
#include "kernels/model/linear.hpp"
#include "kernels/model/rms_norm.hpp"
#include "kernels/model/weight_loading.hpp"
#include "tests/model/tiny_checkpoint.hpp"
#include "tests/support/shared_data.hpp"

namespace dcomp::model {
namespace {

struct HookCall {
  std::vector<std::string> names;
  at::Tensor x;
};

// Runs the model one separately loaded layer at a time; returns logits [batch, seq, vocab].
at::Tensor layer_by_layer_logits(const std::filesystem::path& model_dir, const at::Tensor& token_ids) {
  const ModelConfig config = ModelConfig::from_dir(model_dir);
  const io::CheckpointReader reader(model_dir);
  const EmbeddingAndHeadWeights outer = load_embedding_and_head(reader, config);
  const RotaryEmbedding rope(config);
  at::Tensor hidden = embed_tokens(outer, token_ids);
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    const DecoderLayerWeights layer = load_decoder_layer(reader, config, static_cast<int>(i));
    hidden = decoder_layer_forward(config, layer, hidden, rope);
  }
  return lm_head_logits(config, outer, hidden);
}

void expect_layer_path_equals_causal_lm(const std::filesystem::path& model_dir, const at::Tensor& token_ids) {
  const CausalLM model = CausalLM::load(model_dir);
  const at::Tensor full = model.forward(token_ids);
  const at::Tensor layered = layer_by_layer_logits(model_dir, token_ids);
  ASSERT_EQ(full.sizes(), layered.sizes());
  const double diff = (full - layered).abs().max().item<double>();
  std::cout << "[ pipeline ] " << model_dir.filename().string() << ": max |layer-by-layer - CausalLM| = " << diff
            << " over logits " << full.sizes() << "\n";
  EXPECT_LE(diff, 1e-5);
}

TEST(LayerPipeline, EqualsCausalLmOnRandomQwen3Checkpoint) {
  at::manual_seed(21);
  const ModelConfig config = testing::tiny_config("Qwen3ForCausalLM");
  testing::TemporaryDirectory dir("pipeline");
  testing::write_model_folder(dir.path(), config.raw, testing::random_state_dict(config, true));
  expect_layer_path_equals_causal_lm(dir.path(), at::randint(0, config.vocab_size, {2, 11}, at::kLong));
}

TEST(LayerPipeline, EqualsCausalLmOnSharedModels) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  for (const char* name : {"tinystories-656k", "stories260k"}) {
    const ModelConfig config = ModelConfig::from_dir(data / name);
    at::manual_seed(22);
    const at::Tensor tokens = at::randint(3, config.vocab_size, {2, 40}, at::kLong);
    tokens.select(1, 0).fill_(*config.bos_token_id);
    expect_layer_path_equals_causal_lm(data / name, tokens);
  }
}

TEST(LayerPipeline, HookSeesEachDistinctLinearInputWithItsTrueValue) {
  at::manual_seed(23);
  const ModelConfig config = testing::tiny_config("Qwen2ForCausalLM");
  const DecoderLayerWeights weights = testing::random_layer(config);
  const RotaryEmbedding rope(config);
  const int64_t batch = 2, seq = 5, tokens = batch * seq;
  const at::Tensor hidden = at::randn({batch, seq, config.hidden_size});

  std::vector<HookCall> calls;
  const LinearInputHook hook = [&](const std::vector<std::string>& names, const at::Tensor& x) {
    calls.push_back({names, x.clone()});
  };
  const at::Tensor output = decoder_layer_forward(config, weights, hidden, rope, &hook);
  EXPECT_TRUE(at::equal(output, decoder_layer_forward(config, weights, hidden, rope)));  // the hook changes nothing

  ASSERT_EQ(calls.size(), 4u);
  const std::vector<std::vector<std::string>> names = {{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"},
                                                       {"self_attn.o_proj"},
                                                       {"mlp.gate_proj", "mlp.up_proj"},
                                                       {"mlp.down_proj"}};
  const std::vector<int64_t> widths = {config.hidden_size, config.num_attention_heads * config.head_dim,
                                       config.hidden_size, config.intermediate_size};
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].names, names[i]);
    EXPECT_EQ(calls[i].x.sizes(), (std::vector<int64_t>{tokens, widths[i]})) << i;
    EXPECT_EQ(calls[i].x.scalar_type(), at::kFloat);
    EXPECT_TRUE(calls[i].x.is_contiguous());
  }
  // The q/k/v input is the input_layernorm output.
  const at::Tensor flat_hidden = hidden.reshape({tokens, -1});
  EXPECT_TRUE(at::allclose(calls[0].x, rms_norm(flat_hidden, weights.parameter("input_layernorm.weight"), config.rms_norm_eps), 1e-5, 1e-6));
  // The down input is silu(gate(x)) * up(x) of the gate/up input.
  const at::Tensor gate_up_input = calls[2].x;
  EXPECT_TRUE(at::allclose(calls[3].x,
                           at::silu(linear_forward(weights.gate_proj, gate_up_input)) *
                               linear_forward(weights.up_proj, gate_up_input),
                           1e-5, 1e-6));
  // The layer output is the residual sum of o_proj and down_proj over the reported inputs.
  const at::Tensor rebuilt =
      flat_hidden + linear_forward(weights.o_proj, calls[1].x) + linear_forward(weights.down_proj, calls[3].x);
  EXPECT_TRUE(at::allclose(rebuilt, output.reshape({tokens, -1}), 1e-5, 1e-5));
  // And the gate/up input is post_attention_layernorm of the attention block's output.
  const at::Tensor after_attention = flat_hidden + linear_forward(weights.o_proj, calls[1].x);
  EXPECT_TRUE(at::allclose(gate_up_input,
                           rms_norm(after_attention, weights.parameter("post_attention_layernorm.weight"), config.rms_norm_eps), 1e-5, 1e-6));
}

TEST(LayerPipeline, ObservingInputsReportsWhatTheForwardReports) {
  at::manual_seed(29);
  for (const char* architecture : {"LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM"}) {
    const ModelConfig config = testing::tiny_config(architecture);
    const DecoderLayerWeights weights = testing::random_layer(config);
    const RotaryEmbedding rope(config);
    const at::Tensor hidden = at::randn({2, 7, config.hidden_size});
    std::vector<HookCall> forward_calls, observed_calls;
    const LinearInputHook forward_hook = [&](const std::vector<std::string>& names, const at::Tensor& x) {
      forward_calls.push_back({names, x.clone()});
    };
    const LinearInputHook observe_hook = [&](const std::vector<std::string>& names, const at::Tensor& x) {
      observed_calls.push_back({names, x.clone()});
    };
    decoder_layer_forward(config, weights, hidden, rope, &forward_hook);
    decoder_layer_observe_inputs(config, weights, hidden, rope, observe_hook);
    ASSERT_EQ(observed_calls.size(), forward_calls.size()) << architecture;
    for (size_t i = 0; i < forward_calls.size(); ++i) {
      EXPECT_EQ(observed_calls[i].names, forward_calls[i].names) << architecture << " " << i;
      EXPECT_TRUE(at::equal(observed_calls[i].x, forward_calls[i].x)) << architecture << " " << i;  // bit for bit
    }
  }
}

TEST(LayerPipeline, SetLayerReplacesTheWeightsUsed) {
  at::manual_seed(24);
  const ModelConfig config = testing::tiny_config("LlamaForCausalLM");
  testing::TemporaryDirectory dir("set_layer");
  testing::write_model_folder(dir.path(), config.raw, testing::random_state_dict(config, true));
  CausalLM model = CausalLM::load(dir.path());
  const at::Tensor tokens = at::randint(0, config.vocab_size, {1, 6}, at::kLong);
  const at::Tensor before = model.forward(tokens);
  DecoderLayerWeights changed = model.layer(1);
  changed.down_proj.weight = at::zeros_like(changed.down_proj.weight);
  model.set_layer(1, changed);
  EXPECT_TRUE(at::equal(model.layer(1).down_proj.weight, changed.down_proj.weight));
  EXPECT_FALSE(at::allclose(before, model.forward(tokens)));
  EXPECT_THROW(model.layer(2), std::out_of_range);
}

}  // namespace
}  // namespace dcomp::model
