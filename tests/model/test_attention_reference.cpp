// The decoder layer against a brute-force reference written with explicit loops
// in double precision: per position and per head projections, the rotation of
// each (i, i + head_dim/2) pair by position * theta^(-2i/head_dim), scores with
// an explicit max-shifted softmax, and the SwiGLU MLP. Covers GQA, Qwen2 q/k/v
// biases, Qwen3 q/k norms, Llama bias flags, llama3 rope scaling and Mistral's
// sliding window, and incremental decoding with the KV cache.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <iostream>
#include <vector>

#include "kernels/model/attention.hpp"
#include "kernels/model/decoder_layer.hpp"
#include "kernels/model/rotary_embedding.hpp"
#include "tests/model/random_layer.hpp"

namespace dcomp::model {
namespace {

using Vector = std::vector<double>;

Vector row(const at::Tensor& matrix_row) {
  const at::Tensor values = matrix_row.to(at::kDouble).contiguous();
  return Vector(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
}

// y = W x + b, one output at a time.
Vector naive_linear(const LinearWeights& linear, const Vector& x) {
  const at::Tensor w = linear.weight.to(at::kDouble).contiguous();
  const auto a = w.accessor<double, 2>();
  Vector y(static_cast<size_t>(w.size(0)), 0.0);
  for (int64_t o = 0; o < w.size(0); ++o) {
    double sum = linear.bias.defined() ? linear.bias[o].item<double>() : 0.0;
    for (int64_t i = 0; i < w.size(1); ++i) sum += a[o][i] * x[static_cast<size_t>(i)];
    y[static_cast<size_t>(o)] = sum;
  }
  return y;
}

Vector naive_rms_norm(const Vector& x, const at::Tensor& weight, double eps) {
  double square_sum = 0;
  for (double v : x) square_sum += v * v;
  const double scale = 1.0 / std::sqrt(square_sum / static_cast<double>(x.size()) + eps);
  Vector y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * weight[static_cast<int64_t>(i)].item<double>();
  return y;
}

// Rotary frequency of pair i, with llama3 band scaling written out per case.
double naive_inverse_frequency(const ModelConfig& config, int64_t i) {
  const double base = std::pow(config.rope_theta, -2.0 * static_cast<double>(i) / static_cast<double>(config.head_dim));
  if (config.rope_scaling.type != RopeScalingType::Llama3) return base;
  const auto& s = config.rope_scaling;
  const double wavelength = 2 * M_PI / base;
  const double original = static_cast<double>(s.original_max_position_embeddings);
  if (wavelength < original / s.high_freq_factor) return base;           // high frequency: kept
  if (wavelength > original / s.low_freq_factor) return base / s.factor;  // low frequency: stretched
  const double smooth = (original / wavelength - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  return (1 - smooth) * base / s.factor + smooth * base;
}

// Rotates the pairs (x[i], x[i + D/2]) of one head by position * inv_freq[i].
void naive_rotate(const ModelConfig& config, Vector& head, int64_t position) {
  const int64_t half = config.head_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const double angle = static_cast<double>(position) * naive_inverse_frequency(config, i);
    const double a = head[static_cast<size_t>(i)];
    const double b = head[static_cast<size_t>(i + half)];
    head[static_cast<size_t>(i)] = a * std::cos(angle) - b * std::sin(angle);
    head[static_cast<size_t>(i + half)] = b * std::cos(angle) + a * std::sin(angle);
  }
}

Vector slice(const Vector& v, int64_t begin, int64_t length) {
  return Vector(v.begin() + begin, v.begin() + begin + length);
}

// normed [B, S, hidden] → attention output [B, S, hidden] (float64).
at::Tensor naive_attention(const ModelConfig& config, const DecoderLayerWeights& w, const at::Tensor& normed) {
  const int64_t batch = normed.size(0), seq = normed.size(1), dim = config.head_dim;
  const int64_t heads = config.num_attention_heads, kv_heads = config.num_key_value_heads;
  at::Tensor out = at::zeros({batch, seq, config.hidden_size}, at::kDouble);
  for (int64_t b = 0; b < batch; ++b) {
    // Per position: rotated query heads, rotated key heads, value heads.
    std::vector<std::vector<Vector>> q(seq), k(seq), v(seq);
    for (int64_t s = 0; s < seq; ++s) {
      const Vector x = row(normed[b][s]);
      const Vector qs = naive_linear(w.q_proj, x), ks = naive_linear(w.k_proj, x), vs = naive_linear(w.v_proj, x);
      for (int64_t h = 0; h < heads; ++h) {
        Vector head = slice(qs, h * dim, dim);
        if (config.qk_norm) head = naive_rms_norm(head, w.parameter("self_attn.q_norm.weight"), config.rms_norm_eps);
        naive_rotate(config, head, s);
        q[s].push_back(head);
      }
      for (int64_t h = 0; h < kv_heads; ++h) {
        Vector head = slice(ks, h * dim, dim);
        if (config.qk_norm) head = naive_rms_norm(head, w.parameter("self_attn.k_norm.weight"), config.rms_norm_eps);
        naive_rotate(config, head, s);
        k[s].push_back(head);
        v[s].push_back(slice(vs, h * dim, dim));
      }
    }
    for (int64_t s = 0; s < seq; ++s) {
      Vector context(static_cast<size_t>(heads * dim), 0.0);
      for (int64_t h = 0; h < heads; ++h) {
        const int64_t kv = h / (heads / kv_heads);
        std::vector<int64_t> visible;
        for (int64_t t = 0; t <= s; ++t) {
          if (!config.sliding_window || s - t < *config.sliding_window) visible.push_back(t);
        }
        Vector scores;
        double largest = -INFINITY;
        for (int64_t t : visible) {
          double dot = 0;
          for (int64_t d = 0; d < dim; ++d) dot += q[s][h][d] * k[t][kv][d];
          scores.push_back(dot / std::sqrt(static_cast<double>(dim)));
          largest = std::max(largest, scores.back());
        }
        double total = 0;
        for (double& score : scores) total += (score = std::exp(score - largest));
        for (size_t j = 0; j < visible.size(); ++j) {
          for (int64_t d = 0; d < dim; ++d) context[h * dim + d] += scores[j] / total * v[visible[j]][kv][d];
        }
      }
      const Vector projected = naive_linear(w.o_proj, context);
      for (int64_t i = 0; i < config.hidden_size; ++i) out[b][s][i] = projected[static_cast<size_t>(i)];
    }
  }
  return out;
}

// The whole layer: residual attention block, then residual SwiGLU block.
at::Tensor naive_layer(const ModelConfig& config, const DecoderLayerWeights& w, const at::Tensor& hidden) {
  const int64_t batch = hidden.size(0), seq = hidden.size(1);
  at::Tensor normed = at::zeros_like(hidden, at::kDouble);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t s = 0; s < seq; ++s) {
      const Vector n = naive_rms_norm(row(hidden[b][s]), w.parameter("input_layernorm.weight"), config.rms_norm_eps);
      for (int64_t i = 0; i < config.hidden_size; ++i) normed[b][s][i] = n[static_cast<size_t>(i)];
    }
  }
  const at::Tensor after_attention = hidden.to(at::kDouble) + naive_attention(config, w, normed);
  at::Tensor out = at::zeros_like(after_attention);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t s = 0; s < seq; ++s) {
      const Vector x = row(after_attention[b][s]);
      const Vector n = naive_rms_norm(x, w.parameter("post_attention_layernorm.weight"), config.rms_norm_eps);
      const Vector gate = naive_linear(w.gate_proj, n), up = naive_linear(w.up_proj, n);
      Vector activated(gate.size());
      for (size_t i = 0; i < gate.size(); ++i) activated[i] = gate[i] / (1 + std::exp(-gate[i])) * up[i];
      const Vector down = naive_linear(w.down_proj, activated);
      for (int64_t i = 0; i < config.hidden_size; ++i) out[b][s][i] = x[static_cast<size_t>(i)] + down[static_cast<size_t>(i)];
    }
  }
  return out;
}

double max_difference(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

struct Variant {
  const char* label;
  const char* architecture;
  nlohmann::json overrides;
};

std::vector<Variant> variants() {
  return {
      {"llama GQA", "LlamaForCausalLM", nlohmann::json::object()},
      {"llama attention_bias + mlp_bias", "LlamaForCausalLM", {{"attention_bias", true}, {"mlp_bias", true}}},
      {"llama multi-head (kv = heads)", "LlamaForCausalLM", {{"num_key_value_heads", 4}}},
      {"llama3 rope scaling",
       "LlamaForCausalLM",
       {{"head_dim", 16},
        {"rope_theta", 10000.0},
        {"rope_scaling",
         {{"rope_type", "llama3"},
          {"factor", 8.0},
          {"low_freq_factor", 1.0},
          {"high_freq_factor", 4.0},
          {"original_max_position_embeddings", 256}}}}},
      {"qwen2 q/k/v bias", "Qwen2ForCausalLM", nlohmann::json::object()},
      {"qwen3 q/k norm, head_dim 6", "Qwen3ForCausalLM", nlohmann::json::object()},
      {"mistral sliding window 3", "MistralForCausalLM", {{"sliding_window", 3}}},
  };
}

TEST(AttentionReference, MatchesBruteForceForEveryVariant) {
  at::manual_seed(7);
  for (const auto& variant : variants()) {
    const ModelConfig config = testing::tiny_config(variant.architecture, variant.overrides);
    const DecoderLayerWeights weights = testing::random_layer(config);
    const RotaryEmbedding rope(config);
    const at::Tensor normed = at::randn({2, 7, config.hidden_size}, at::kFloat);
    const double attention_diff =
        max_difference(self_attention_forward(config, weights, normed, rope), naive_attention(config, weights, normed));
    const at::Tensor hidden = at::randn({2, 7, config.hidden_size}, at::kFloat);
    const double layer_diff =
        max_difference(decoder_layer_forward(config, weights, hidden, rope), naive_layer(config, weights, hidden));
    std::cout << "[ variant  ] " << variant.label << ": max |attention - brute force| = " << attention_diff
              << ", max |layer - brute force| = " << layer_diff << "\n";
    EXPECT_LT(attention_diff, 2e-5) << variant.label;
    EXPECT_LT(layer_diff, 2e-5) << variant.label;
  }
}

TEST(AttentionReference, Llama3FrequenciesCoverAllThreeBands) {
  const ModelConfig config = testing::tiny_config("LlamaForCausalLM", variants()[3].overrides);
  const at::Tensor frequencies = RotaryEmbedding(config).inverse_frequencies();
  ASSERT_EQ(frequencies.size(0), 8);
  int kept = 0, stretched = 0, interpolated = 0;
  for (int64_t i = 0; i < 8; ++i) {
    const double base = std::pow(10000.0, -2.0 * i / 16.0);
    const double expected = naive_inverse_frequency(config, i);
    EXPECT_NEAR(frequencies[i].item<double>(), expected, 1e-6 * base) << "pair " << i;
    if (expected == base) {
      ++kept;
    } else if (std::abs(expected - base / 8.0) < 1e-15) {
      ++stretched;
    } else {
      ++interpolated;
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(stretched, 0);
  EXPECT_GT(interpolated, 0);
}

TEST(AttentionReference, KvCacheDecodingEqualsOneFullPass) {
  at::manual_seed(11);
  for (const auto& variant : variants()) {
    const ModelConfig config = testing::tiny_config(variant.architecture, variant.overrides);
    const DecoderLayerWeights weights = testing::random_layer(config);
    const RotaryEmbedding rope(config);
    const at::Tensor hidden = at::randn({2, 9, config.hidden_size}, at::kFloat);
    const at::Tensor full = decoder_layer_forward(config, weights, hidden, rope);
    LayerKVCache cache;
    std::vector<at::Tensor> pieces{decoder_layer_forward_cached(config, weights, hidden.narrow(1, 0, 4), rope, cache)};
    for (int64_t s = 4; s < 9; ++s) {
      pieces.push_back(decoder_layer_forward_cached(config, weights, hidden.narrow(1, s, 1), rope, cache));
    }
    EXPECT_EQ(cache.length(), 9);
    EXPECT_LT(max_difference(at::cat(pieces, 1), full), 1e-5) << variant.label;
  }
}

// Sequences longer than one query block (kAttentionQueryBlock) run block by block, each
// block scored only against the keys it may see: the result equals the brute force, with
// and without a sliding window wider or narrower than a block, and a cached prefill in
// two long pieces equals one full pass.
TEST(AttentionReference, LongSequencesInQueryBlocksMatchBruteForce) {
  at::manual_seed(13);
  const int64_t seq = 2 * kAttentionQueryBlock + 88;
  const std::vector<Variant> cases = {{"llama GQA", "LlamaForCausalLM", nlohmann::json::object()},
                                      {"mistral window 300", "MistralForCausalLM", {{"sliding_window", 300}}},
                                      {"mistral window 3", "MistralForCausalLM", {{"sliding_window", 3}}}};
  for (const auto& variant : cases) {
    const ModelConfig config = testing::tiny_config(variant.architecture, variant.overrides);
    const DecoderLayerWeights weights = testing::random_layer(config);
    const RotaryEmbedding rope(config);
    const at::Tensor normed = at::randn({1, seq, config.hidden_size}, at::kFloat);
    EXPECT_LT(max_difference(self_attention_forward(config, weights, normed, rope),
                             naive_attention(config, weights, normed)),
              2e-5)
        << variant.label;
    const at::Tensor hidden = at::randn({1, seq, config.hidden_size}, at::kFloat);
    const at::Tensor full = decoder_layer_forward(config, weights, hidden, rope);
    LayerKVCache cache;
    const int64_t first = kAttentionQueryBlock + 44;
    const at::Tensor head = decoder_layer_forward_cached(config, weights, hidden.narrow(1, 0, first), rope, cache);
    const at::Tensor tail = decoder_layer_forward_cached(config, weights, hidden.narrow(1, first, seq - first), rope, cache);
    EXPECT_LT(max_difference(at::cat({head, tail}, 1), full), 1e-5) << variant.label;
  }
}

TEST(AttentionReference, MaskIsCausalAndWindowed) {
  const at::Tensor mask = causal_attention_mask(2, 5, 3, 2);  // queries at 3, 4 over keys 0..4, window 2
  const float inf = INFINITY;
  const std::vector<std::vector<float>> expected = {{-inf, -inf, 0, 0, -inf}, {-inf, -inf, -inf, 0, 0}};
  for (int64_t q = 0; q < 2; ++q) {
    for (int64_t k = 0; k < 5; ++k) EXPECT_EQ(mask[q][k].item<float>(), expected[q][k]) << q << "," << k;
  }
  // The same queries over keys 2..4 only (a block's key range): the matching columns.
  const at::Tensor shifted = causal_attention_mask(2, 3, 3, 2, c10::kCPU, 2);
  for (int64_t q = 0; q < 2; ++q) {
    for (int64_t k = 0; k < 3; ++k) EXPECT_EQ(shifted[q][k].item<float>(), expected[q][k + 2]) << q << "," << k;
  }
}

}  // namespace
}  // namespace dcomp::model
