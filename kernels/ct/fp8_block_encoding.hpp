// Writing weights in the FP8 block format of DeepSeek-V3's release (the inverse of
// fp8_block_checkpoint.hpp's reading): each [B0, B1] block of a weight gets
// weight_scale_inv = absmax(block) / 448 (1 for an all-zero block) and its elements the E4M3
// codes of w / scale, so the block's largest magnitude is stored as ±448; blocks at the
// right and bottom edges may be partial (the grid is [ceil(rows / B0), ceil(cols / B1)]).
//
// reference: DeepSeek-V3 inference/kernel.py (act_quant: s = amax / 448, y = x / s) and
// inference/fp8_cast_bf16.py; transformers integrations/finegrained_fp8.py (FP8Linear's
// weight_scale_inv grid).
#pragma once

#include <ATen/core/Tensor.h>

#include "kernels/model/fp8_block_format.hpp"
#include "kernels/model/synthetic_model.hpp"

namespace dcomp::ct {

struct Fp8BlockWeight {
  at::Tensor codes;      // uint8 [rows, cols]: E4M3 bit patterns
  at::Tensor scale_inv;  // fp32 [ceil(rows / B0), ceil(cols / B1)]
};

/// weight: fp32 [rows, cols] → its E4M3 codes and block scales. Throws std::invalid_argument
/// for another rank or dtype, or a non-finite element.
Fp8BlockWeight encode_fp8_blocks(const at::Tensor& weight, const model::Fp8BlockFormat& format);

/// The synthetic model's decoder Linears stored as the release stores them: "<m>.weight"
/// F8_E4M3 and "<m>.weight_scale_inv" F32, with config.json's quantization_config
/// {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8", "weight_block_size": [B0, B1]}.
model::SyntheticLinearStorage fp8_block_linear_storage(const model::Fp8BlockFormat& format);

}  // namespace dcomp::ct
