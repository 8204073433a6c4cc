// The block shape of an FP8 block-quantized checkpoint (quantization_config quant_method "fp8",
// weight_block_size [B0, B1]: one weight_scale_inv per B0 × B1 block of a weight); read by
// kernels/ct/fp8_block_checkpoint.hpp, checked by checkpoint_validation.hpp.
#pragma once

#include <cstdint>

namespace dcomp::model {

struct Fp8BlockFormat {
  int64_t block_rows = 128;
  int64_t block_columns = 128;
};

}  // namespace dcomp::model
