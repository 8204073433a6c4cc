// dcomp's forward against transformers' on tiny random BF16 models of each architecture,
// saved by transformers itself with its own float32 logits and greedy tokens for a fixed
// prompt (tests/model/fixtures/<name>/, made by tests/model/make_arch_fixtures.py):
// Llama-3.1 (llama3 rope scaling, GQA), Qwen2 (q/k/v bias), Qwen3 (q/k norm), Mistral
// (sliding window), SmolLM2 (tied embeddings), Mixtral (8 experts, top-2) and Qwen3-MoE (8 experts,
// top-3 renormalised, a dense layer between sparse ones; tests/model/make_moe_fixtures.py) and
// DeepSeek-V3 (multi-head latent attention with and without q_lora_rank, interleaved and plain
// rotary pairs, YaRN with mscale, grouped sigmoid routing with the score correction bias, shared
// experts, a dense first layer) and a Kimi-K2-like one (16 experts in one group)
// and GLM-4.5 (partial rotary embeddings, q/k/v bias, q/k norm, the same routing)
// (tests/model/make_deepseek_fixtures.py, transformers 5.19).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <iostream>
#include <string>
#include <vector>

#include "kernels/io/safetensors.hpp"
#include "kernels/model/causal_lm.hpp"
#include "kernels/model/generation.hpp"

namespace dcomp::model {
namespace {

class ArchitectureFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(ArchitectureFixture, LogitsAndGreedyTokensEqualTransformers) {
  const std::filesystem::path folder = std::filesystem::path(DCOMP_SOURCE_DIR) / "tests/model/fixtures" / GetParam();
  const auto reference = io::SafetensorsFile::open(folder / "reference.safetensors");
  const at::Tensor expected = reference->tensor("logits");  // [1, 24, 128] float32
  const at::Tensor prompt = reference->tensor("prompt");    // [24] int64
  const CausalLM model = CausalLM::load(folder);
  const at::Tensor logits = model.forward(prompt.unsqueeze(0));
  ASSERT_EQ(logits.sizes(), expected.sizes());
  // Two float32 forwards of the same BF16 weights that sum in different orders: they agree
  // to a few float32 ulps of the logit scale (measured with transformers 5.17: at most 1.0e-6 of it).
  const double scale = expected.abs().max().item<double>();
  const double difference = (logits - expected).abs().max().item<double>();
  std::cout << GetParam() << ": max |logit difference| " << difference << " (" << difference / scale
            << " of the largest |logit|)\n";
  EXPECT_LT(difference, 1e-5 * scale) << GetParam() << ": max |logit difference| " << difference << ", scale " << scale;
  EXPECT_TRUE(at::equal(logits.argmax(-1), expected.argmax(-1)));

  const at::Tensor greedy = reference->tensor("greedy");  // [8] int64
  std::vector<int32_t> ids(prompt.data_ptr<int64_t>(), prompt.data_ptr<int64_t>() + prompt.numel());
  const auto generated = generate_greedy(model, ids, greedy.numel(), {});
  const std::vector<int32_t> continuation(generated.begin() + static_cast<int64_t>(ids.size()), generated.end());
  const std::vector<int32_t> expected_tokens(greedy.data_ptr<int64_t>(), greedy.data_ptr<int64_t>() + greedy.numel());
  EXPECT_EQ(continuation, expected_tokens) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Transformers517, ArchitectureFixture,
                         ::testing::Values("llama3", "qwen2", "qwen3", "mistral", "smollm2", "mixtral", "qwen3_moe",
                                           "deepseek_v3", "deepseek_v3_q_proj", "kimi_k2", "glm4_moe"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace dcomp::model
