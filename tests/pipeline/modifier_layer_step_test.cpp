// One modifier's per-layer step on a hand-built LayerWork (hand_built_layer.hpp): a tiny dense
// Llama layer with random fp32 weights, its input statistics computed here from random
// calibration activations, handed to a single modifier built from recipe arguments through
// initialize and one SEQUENTIAL_EPOCH_END. Each result is checked against a reference written
// in this file (or tests/quant/gptq_reference.hpp) from the published formulas, never against
// the library function the modifier calls.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/quant/quant_args.hpp"
#include "pipeline/hand_built_layer.hpp"
#include "quant/gptq_reference.hpp"

namespace dcomp::pipeline::layer_step_testing {
namespace {

// -- references -----------------------------------------------------------------------------

/// Round-to-nearest of a [out, in] fp32 weight in groups of `group_size` consecutive inputs
/// (group_size == in: per channel), every operation in fp32 as on an fp32 model.
struct ReferenceRounding {
  at::Tensor codes;        // [out, in] int32
  at::Tensor scale;        // [out, in / group_size] fp32
  at::Tensor zero_point;   // [out, in / group_size] int32 (zeros when symmetric)
  at::Tensor dequantized;  // [out, in] fp32: (code − zero_point) · scale
};

/// One group's scale and zero point from its range, 0 forced into [min, max].
// reference: compressed-tensors quantization/utils/helpers.py calculate_qparams
//   symmetric:  scale = max(|min|, |max|) / ((q_max − q_min) / 2), zero point 0
//   asymmetric: scale = (max − min) / (q_max − q_min), zp = round(clamp(q_min − min / scale, q_min, q_max))
std::pair<float, float> reference_group_qparams(float lo, float hi, float q_min, float q_max, bool symmetric) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  float scale;
  float zero_point = 0.0f;
  if (symmetric) {
    scale = std::max(-lo, hi) / ((q_max - q_min) / 2.0f);
  } else {
    scale = (hi - lo) / (q_max - q_min);
    zero_point = std::nearbyint(std::clamp(q_min - lo / scale, q_min, q_max));  // round half to even
  }
  return {std::max(scale, FLT_EPSILON), zero_point};
}

// reference: compressed-tensors quantization/lifecycle/forward.py _quantize
//   q = clamp(round_half_even(w / scale + zp), q_min, q_max); _dequantize: (q − zp) · scale
ReferenceRounding reference_round_to_nearest(const at::Tensor& weight, int num_bits, bool symmetric,
                                             int64_t group_size) {
  const float q_min = -std::ldexp(1.0f, num_bits - 1);
  const float q_max = std::ldexp(1.0f, num_bits - 1) - 1.0f;
  const int64_t rows = weight.size(0);
  const int64_t cols = weight.size(1);
  const int64_t groups = cols / group_size;
  ReferenceRounding out{at::zeros({rows, cols}, at::kInt), at::zeros({rows, groups}, at::kFloat),
                        at::zeros({rows, groups}, at::kInt), at::zeros({rows, cols}, at::kFloat)};
  const at::Tensor w = weight.contiguous();
  const auto w_at = w.accessor<float, 2>();
  auto codes = out.codes.accessor<int, 2>();
  auto scales = out.scale.accessor<float, 2>();
  auto zero_points = out.zero_point.accessor<int, 2>();
  auto dequantized = out.dequantized.accessor<float, 2>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      float lo = 0.0f, hi = 0.0f;
      for (int64_t c = g * group_size; c < (g + 1) * group_size; ++c) {
        lo = std::min(lo, w_at[r][c]);
        hi = std::max(hi, w_at[r][c]);
      }
      const auto [scale, zero_point] = reference_group_qparams(lo, hi, q_min, q_max, symmetric);
      scales[r][g] = scale;
      zero_points[r][g] = static_cast<int>(zero_point);
      for (int64_t c = g * group_size; c < (g + 1) * group_size; ++c) {
        const float q = std::clamp(std::nearbyint(w_at[r][c] / scale + zero_point), q_min, q_max);
        codes[r][c] = static_cast<int>(q);
        dequantized[r][c] = (q - zero_point) * scale;
      }
    }
  }
  return out;
}

/// Magnitude N:M pruning: in every M consecutive inputs of a row, the N smallest |w| set to 0.
// reference: SparseGPT (Frantar & Alistarh 2023) §3 magnitude baseline; llm-compressor
// sgpt_sparsify.py's N:M mask shape (N pruned per M consecutive columns)
at::Tensor reference_magnitude_prune(const at::Tensor& weight, int prune_n, int prune_m) {
  at::Tensor pruned = weight.clone().contiguous();  // [out, in] fp32
  auto w = pruned.accessor<float, 2>();
  for (int64_t r = 0; r < pruned.size(0); ++r) {
    for (int64_t start = 0; start < pruned.size(1); start += prune_m) {
      std::vector<int64_t> columns(static_cast<size_t>(prune_m));
      for (int k = 0; k < prune_m; ++k) columns[static_cast<size_t>(k)] = start + k;
      std::stable_sort(columns.begin(), columns.end(),
                       [&](int64_t a, int64_t b) { return std::fabs(w[r][a]) < std::fabs(w[r][b]); });
      for (int k = 0; k < prune_n; ++k) w[r][columns[static_cast<size_t>(k)]] = 0.0f;
    }
  }
  return pruned;
}

/// The smoothing scales of the balance weights (each [out, in] fp32) reading one norm's output.
// reference: llm-compressor modifiers/transform/smoothquant/base.py _apply_smoothing and
// _calculate_smoothing_scales: activation_scales = max_channel_vals − min_channel_vals (the
// channel's dynamic range), weight_scales = 2 · max over the balance layers of max_i |W_ij|,
// s_j = activation_scales_j^α / weight_scales_j^(1−α) (activation_scales_j where weight_scales_j is 0)
at::Tensor reference_smoothing_scales(const at::Tensor& x, const std::vector<at::Tensor>& balance_weights,
                                      double alpha) {
  const at::Tensor x64 = x.to(at::kDouble);  // [tokens, in]
  const at::Tensor activation_range = std::get<0>(x64.max(0)) - std::get<0>(x64.min(0));  // [in]
  at::Tensor weight_max = at::zeros({x.size(1)}, at::kDouble);
  for (const auto& w : balance_weights) {
    weight_max = at::maximum(weight_max, std::get<0>(w.to(at::kDouble).abs().max(0)));
  }
  const at::Tensor weight_range = 2.0 * weight_max;
  return at::where(weight_range.gt(0), activation_range.pow(alpha) / weight_range.pow(1.0 - alpha), activation_range);
}

// -- recipes --------------------------------------------------------------------------------

/// A config group of every Linear but lm_head with these int weights (and no activation quantization).
std::string int_weight_recipe(int num_bits, bool symmetric, const std::string& strategy_args) {
  return "{ignore: [lm_head], config_groups: {group_0: {targets: [Linear], weights: {num_bits: " +
         std::to_string(num_bits) + ", type: int, symmetric: " + (symmetric ? "true" : "false") + ", " +
         strategy_args + "}}}}";
}

const std::string kW4A16Group16 = int_weight_recipe(4, true, "strategy: group, group_size: 16");
const std::string kW4Asymmetric16 = int_weight_recipe(4, false, "strategy: group, group_size: 16");

// -- checks ---------------------------------------------------------------------------------

/// A module's compressed weight equals the reference rounding of its original weight:
/// codes and scales exactly, zero points (asymmetric) exactly, the continued weight (q − zp)·s.
void expect_rounding_matches(const lifecycle::LinearModule& module, const ReferenceRounding& reference,
                             bool symmetric) {
  SCOPED_TRACE(module.name);
  ASSERT_TRUE(module.compressed.has_value());
  const quant::CompressedWeight& compressed = *module.compressed;
  ASSERT_TRUE(compressed.weight_args.has_value());
  EXPECT_EQ(compressed.codes.scalar_type(), at::kChar);
  EXPECT_TRUE(at::equal(compressed.codes.to(at::kInt), reference.codes))
      << (compressed.codes.to(at::kInt) != reference.codes).sum().item<int64_t>() << " codes differ";
  ASSERT_EQ(compressed.scale.sizes(), reference.scale.sizes());
  EXPECT_TRUE(at::equal(compressed.scale.to(at::kFloat), reference.scale))
      << "largest scale difference " << (compressed.scale.to(at::kFloat) - reference.scale).abs().max().item<float>();
  if (symmetric) {
    EXPECT_FALSE(compressed.zero_point.defined());
  } else {
    ASSERT_TRUE(compressed.zero_point.defined());
    EXPECT_TRUE(at::equal(compressed.zero_point.to(at::kInt), reference.zero_point));
  }
  EXPECT_TRUE(at::equal(compressed.effective_weight, reference.dequantized));
  EXPECT_TRUE(at::equal(module.weight, reference.dequantized));
}

/// Every Linear of the layer, one of each shape-and-input: q, k, v, o, gate, up, down.
void expect_all_linears_compressed(const lifecycle::LayerWork& work) {
  EXPECT_EQ(work.linears.size(), 7u);
  for (const auto& module : work.linears) EXPECT_TRUE(module.compressed.has_value()) << module.name;
}

// -- QuantizationModifier --------------------------------------------------------------------

// W4A16, symmetric, group 16: each Linear's int4 codes [out, in], fp32 scales [out, in/16]
// and continued weight equal a brute-force round-to-nearest of its original weight.
TEST(ModifierLayerStep, QuantizationModifierW4A16Group16MatchesBruteForceRounding) {
  at::manual_seed(11);
  const HandBuiltLayer layer;
  SingleModifierStep step("QuantizationModifier", kW4A16Group16, layer);
  EXPECT_FALSE(step.plan().needs_calibration_pass());  // weight-only RTN is data-free
  const auto work = step.run();
  expect_all_linears_compressed(*work);
  for (const auto& module : work->linears) {
    const at::Tensor& original = layer.original_weights.at(module.name);
    expect_rounding_matches(module, reference_round_to_nearest(original, 4, true, 16), true);
  }
}

// int4 asymmetric, group 16: codes, scales and int32 zero points as compressed-tensors computes them.
TEST(ModifierLayerStep, QuantizationModifierAsymmetricGroup16MatchesBruteForceRounding) {
  at::manual_seed(12);
  const HandBuiltLayer layer;
  SingleModifierStep step("QuantizationModifier", kW4Asymmetric16, layer);
  const auto work = step.run();
  expect_all_linears_compressed(*work);
  for (const auto& module : work->linears) {
    const at::Tensor& original = layer.original_weights.at(module.name);
    expect_rounding_matches(module, reference_round_to_nearest(original, 4, false, 16), false);
  }
}

// The W8A8 preset: int8 symmetric weights per output channel (scales [out, 1]), dynamic
// per-token int8 input activations, which need no calibration and carry no static scale.
TEST(ModifierLayerStep, QuantizationModifierW8A8MatchesBruteForceChannelRounding) {
  at::manual_seed(13);
  const HandBuiltLayer layer;
  SingleModifierStep step("QuantizationModifier", "{scheme: W8A8, ignore: [lm_head]}", layer);
  EXPECT_FALSE(step.plan().needs_channel_ranges);
  const auto work = step.run();
  expect_all_linears_compressed(*work);
  for (const auto& module : work->linears) {
    const at::Tensor& original = layer.original_weights.at(module.name);
    expect_rounding_matches(module, reference_round_to_nearest(original, 8, true, original.size(1)), true);
    ASSERT_TRUE(module.compressed->input_args.has_value()) << module.name;
    EXPECT_TRUE(module.compressed->input_args->dynamic) << module.name;
    EXPECT_FALSE(module.compressed->input_scale.defined()) << module.name;
  }
}

// -- GPTQModifier ----------------------------------------------------------------------------

// W4A16 group 16 with GPTQ's defaults (actorder static, dampening 0.01): every Linear's codes
// equal the double-precision GPTQ reference's, which continues with the implementation's code
// only where the two sit on an exact rounding tie; the loss it reports is the reference's; and
// its output error ‖(W − Ŵ)Xᵀ‖² on the
// calibration activations is below round-to-nearest's.
TEST(ModifierLayerStep, GptqModifierW4A16Group16MatchesReferenceAndBeatsRounding) {
  at::manual_seed(21);
  const HandBuiltLayer layer;
  SingleModifierStep step("GPTQModifier", kW4A16Group16, layer);
  EXPECT_TRUE(step.plan().needs_hessians);
  const auto work = step.run();
  expect_all_linears_compressed(*work);
  ASSERT_TRUE(step.last_report().has_value());

  quant::QuantizationArgs args;  // int4 symmetric group 16, llm-compressor GPTQ's default actorder
  args.num_bits = 4;
  args.type = quant::QuantType::Int;
  args.symmetric = true;
  args.strategy = quant::Strategy::Group;
  args.group_size = 16;
  args.actorder = quant::ActOrder::Static;
  for (const auto& module : work->linears) {
    SCOPED_TRACE(module.name);
    const at::Tensor& original = layer.original_weights.at(module.name);  // [out, in] fp32
    const at::Tensor& x = layer.activations.at(module.input);              // [tokens, in] fp32
    EXPECT_EQ(module.compressed->weight_args->actorder, quant::ActOrder::Static);
    const at::Tensor x64 = x.to(at::kDouble);
    const at::Tensor hessian = 2.0 * at::mm(x64.t(), x64);  // [in, in] fp64
    const auto reference =
        quant::testing::reference_gptq(original, hessian, args, /*dampening_frac=*/0.01, module.compressed->codes);
    EXPECT_EQ(reference.mismatches, 0);
    EXPECT_LE(reference.tie_flips, original.numel() / 100);
    // The reported loss Σ (w − q)² / U[i,i]² / 2 is upstream's, on H = H_sum / samples.
    const double reported_loss = step.last_report()->at("loss").at(module.name).get<double>();
    EXPECT_NEAR(reported_loss, reference.loss / kSamples, 1e-3 * reference.loss / kSamples);
    const at::Tensor reference_weight = quant::testing::to_tensor(reference.dequantized);  // [out, in] fp64
    EXPECT_TRUE(at::allclose(module.weight.to(at::kDouble), reference_weight, 1e-5, 1e-6));

    // Static actorder observes the original weight: its scales are round-to-nearest's.
    const ReferenceRounding rounding = reference_round_to_nearest(original, 4, true, 16);
    EXPECT_TRUE(at::allclose(module.compressed->scale.to(at::kFloat), rounding.scale, 1e-6, 0));
    const double gptq_error = output_error(original, module.weight, x);
    const double rounding_error = output_error(original, rounding.dequantized, x);
    EXPECT_LT(gptq_error, rounding_error);
  }
}

// -- SmoothQuantModifier ---------------------------------------------------------------------

// smoothing_strength 0.5 on q/k/v ← input_layernorm: the norm weight [hidden] becomes g / s and
// each balance weight's columns W[:, j] · s_j, with s from the calibration activations' ranges
// and the balance weights; the layer's function is kept (rms_norm(h; g/s) · (W·diag(s))ᵀ equals
// rms_norm(h; g) · Wᵀ to fp32 precision); the MLP's norm and Linears are left alone.
TEST(ModifierLayerStep, SmoothQuantModifierScalesNormAndBalanceWeightsAndKeepsTheFunction) {
  at::manual_seed(31);
  const HandBuiltLayer layer;
  SingleModifierStep step("SmoothQuantModifier",
                          "{smoothing_strength: 0.5, mappings: [[['re:.*q_proj', 're:.*k_proj', 're:.*v_proj'], "
                          "'re:.*input_layernorm']]}",
                          layer);
  EXPECT_TRUE(step.plan().needs_channel_ranges);
  const auto work = step.run();

  const std::string norm = full_name("input_layernorm");
  const std::vector<std::string> balance = {full_name("self_attn.q_proj"), full_name("self_attn.k_proj"),
                                            full_name("self_attn.v_proj")};
  std::vector<at::Tensor> balance_weights;
  for (const auto& name : balance) balance_weights.push_back(layer.original_weights.at(name));
  // s: [hidden] fp64
  const at::Tensor scales = reference_smoothing_scales(layer.activations.at(norm), balance_weights, 0.5);
  const at::Tensor original_norm = layer.original_norms.at(norm);  // [hidden] fp32

  const at::Tensor smoothed_norm = work->norm_weights.at(norm);  // [hidden] fp32
  EXPECT_TRUE(at::allclose(smoothed_norm.to(at::kDouble), original_norm.to(at::kDouble) / scales, 1e-5, 0));
  const at::Tensor hidden = layer.norm_inputs.at(norm);  // [tokens, hidden] fp32
  const at::Tensor normed_before = reference_rms_norm(hidden, original_norm, layer.config.rms_norm_eps);
  const at::Tensor normed_after = reference_rms_norm(hidden, smoothed_norm, layer.config.rms_norm_eps);
  for (size_t k = 0; k < balance.size(); ++k) {
    SCOPED_TRACE(balance[k]);
    const at::Tensor smoothed = work->find(balance[k])->weight;  // [out, hidden] fp32
    const at::Tensor expected = balance_weights[k].to(at::kDouble) * scales.unsqueeze(0);  // columns · s
    EXPECT_TRUE(at::allclose(smoothed.to(at::kDouble), expected, 1e-5, 0));
    const at::Tensor before = at::mm(normed_before, balance_weights[k].to(at::kDouble).t());  // [tokens, out]
    const at::Tensor after = at::mm(normed_after, smoothed.to(at::kDouble).t());
    EXPECT_TRUE(at::allclose(after, before, 1e-4, 1e-5))
        << "largest difference " << (after - before).abs().max().item<double>();
  }
  // Only the mapping's norm and Linears change.
  const std::string mlp_norm = full_name("post_attention_layernorm");
  EXPECT_TRUE(at::equal(work->norm_weights.at(mlp_norm), layer.original_norms.at(mlp_norm)));
  for (const auto& module : work->linears) {
    if (std::find(balance.begin(), balance.end(), module.name) != balance.end()) continue;
    EXPECT_TRUE(at::equal(module.weight, layer.original_weights.at(module.name))) << module.name;
    EXPECT_FALSE(module.compressed.has_value()) << module.name;
  }
}

// -- SparseGPTModifier -----------------------------------------------------------------------

// 2:4 on every Linear: exactly 2 zeros in every 4 consecutive inputs of every row (the weight and
// its bool mask agree), and the output error ‖(W − Ŵ)Xᵀ‖² below magnitude 2:4 pruning's.
TEST(ModifierLayerStep, SparseGptModifierTwoFourPatternAndBeatsMagnitudePruning) {
  at::manual_seed(41);
  const HandBuiltLayer layer;
  SingleModifierStep step("SparseGPTModifier", "{sparsity: 0.5, mask_structure: '2:4', ignore: [lm_head]}", layer);
  EXPECT_TRUE(step.plan().needs_hessians);
  const auto work = step.run();
  expect_all_linears_compressed(*work);
  for (const auto& module : work->linears) {
    SCOPED_TRACE(module.name);
    const at::Tensor& original = layer.original_weights.at(module.name);  // [out, in] fp32
    const at::Tensor& x = layer.activations.at(module.input);              // [tokens, in] fp32
    const quant::CompressedWeight& compressed = *module.compressed;
    EXPECT_EQ(compressed.sparsity_structure, "2:4");
    EXPECT_FALSE(compressed.weight_args.has_value());  // pruned only
    // Zeros per group of 4 consecutive inputs: [out, in / 4], all exactly 2.
    const at::Tensor zeros_per_group = module.weight.eq(0).reshape({original.size(0), -1, 4}).sum(-1);
    EXPECT_TRUE(zeros_per_group.eq(2).all().item<bool>()) << zeros_per_group;
    ASSERT_TRUE(compressed.sparsity_mask.defined());
    EXPECT_TRUE(at::equal(compressed.sparsity_mask, module.weight.ne(0)));

    const double sparsegpt_error = output_error(original, module.weight, x);
    const double magnitude_error = output_error(original, reference_magnitude_prune(original, 2, 4), x);
    EXPECT_LT(sparsegpt_error, magnitude_error);
  }
}

}  // namespace
}  // namespace dcomp::pipeline::layer_step_testing
