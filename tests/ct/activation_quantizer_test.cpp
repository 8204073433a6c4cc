// Dynamic per-token FP8 input quantization (FP8_DYNAMIC's input_activations) against a brute-force
// reference: per token the scale absmax / 448 in fp32, then x / scale rounded to the nearest E4M3
// value of the enumerated grid, times the scale (compressed-tensors forward_quantize).
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "kernels/ct/activation_quantizer.hpp"
#include "kernels/quant/quant_args.hpp"
#include "tests/ct/e4m3_reference.hpp"

namespace dcomp::ct {
namespace {

TEST(ActivationQuantizer, Fp8DynamicTokensMatchTheEnumeratedGrid) {
  // As a checkpoint's config.json declares them.
  const quant::QuantizationArgs args = quant::args_from_json(
      nlohmann::json::parse(R"({"actorder": null, "block_structure": null, "dynamic": true, "group_size": null,
                                "num_bits": 8, "observer": null, "observer_kwargs": {}, "scale_dtype": null,
                                "strategy": "token", "symmetric": true, "type": "float", "zp_dtype": null})"),
      "input_activations");
  at::manual_seed(11);
  // [batch 2, tokens 5, features 96]; tokens of very different magnitudes
  const at::Tensor x = at::randn({2, 5, 96}) * at::pow(10.0, at::arange(-2, 3, at::kFloat)).reshape({1, 5, 1});
  const at::Tensor got = make_input_quantizer(args)(x);
  ASSERT_EQ(got.sizes(), x.sizes());
  const std::vector<double> grid = e4m3_magnitudes();
  int mismatches = 0;
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t t = 0; t < 5; ++t) {
      const at::Tensor token = x[b][t].contiguous();
      const float scale = token.abs().max().item<float>() / 448.0f;
      for (int64_t i = 0; i < token.numel(); ++i) {
        const float scaled = token[i].item<float>() / scale;
        const float expected = static_cast<float>(e4m3_reference(scaled, /*toward_zero=*/false, grid)) * scale;
        if (got[b][t][i].item<float>() != expected && ++mismatches < 5) {
          ADD_FAILURE() << "batch " << b << " token " << t << " feature " << i << ": x " << token[i].item<float>()
                        << " gave " << got[b][t][i].item<float>() << ", expected " << expected;
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace dcomp::ct
