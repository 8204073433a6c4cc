// reference: DeepSeek-V3 inference/kernel.py (act_quant) and inference/fp8_cast_bf16.py.
#include "kernels/ct/fp8_block_encoding.hpp"

#include <stdexcept>
#include <string>

#include <ATen/ATen.h>

#include "kernels/io/safetensors.hpp"
#include "kernels/quant/fp8_e4m3.hpp"

namespace dcomp::ct {

Fp8BlockWeight encode_fp8_blocks(const at::Tensor& weight, const model::Fp8BlockFormat& format) {
  if (weight.dim() != 2 || weight.scalar_type() != at::kFloat) {
    throw std::invalid_argument("encode_fp8_blocks: expected an fp32 matrix");
  }
  if (!weight.isfinite().all().item<bool>()) throw std::invalid_argument("encode_fp8_blocks: non-finite weight");
  const int64_t rows = weight.size(0), columns = weight.size(1);
  const int64_t b0 = format.block_rows, b1 = format.block_columns;
  const int64_t grid_rows = (rows + b0 - 1) / b0, grid_columns = (columns + b1 - 1) / b1;
  // Zero-padded to whole blocks: [grid_rows, b0, grid_columns, b1]; padding never raises an absmax.
  const at::Tensor padded =
      at::constant_pad_nd(weight.abs(), {0, grid_columns * b1 - columns, 0, grid_rows * b0 - rows}, 0.0);
  at::Tensor absmax = padded.view({grid_rows, b0, grid_columns, b1}).amax(at::IntArrayRef{1, 3});
  at::Tensor scale = (absmax / quant::kFp8E4m3Max).masked_fill_(absmax.eq(0), 1.0f).contiguous();
  // Each element divided by its block's scale: the grid expanded to [rows, cols].
  const at::Tensor expanded = scale.repeat_interleave(b0, 0)
                                  .repeat_interleave(b1, 1)
                                  .slice(0, 0, rows)
                                  .slice(1, 0, columns);
  return {quant::encode_fp8_e4m3((weight / expanded).contiguous()), scale};
}

model::SyntheticLinearStorage fp8_block_linear_storage(const model::Fp8BlockFormat& format) {
  model::SyntheticLinearStorage storage;
  storage.encode = [format](const std::string& weight_name, const at::Tensor& weight) {
    Fp8BlockWeight encoded = encode_fp8_blocks(weight, format);
    const std::string module = weight_name.substr(0, weight_name.size() - std::string(".weight").size());
    return std::vector<io::NamedTensor>{{weight_name, encoded.codes, io::DType::F8_E4M3},
                                        {module + ".weight_scale_inv", encoded.scale_inv, std::nullopt}};
  };
  storage.quantization_config = {{"activation_scheme", "dynamic"},
                                 {"fmt", "e4m3"},
                                 {"quant_method", "fp8"},
                                 {"weight_block_size", {format.block_rows, format.block_columns}}};
  storage.bytes_per_element = 1.0;
  return storage;
}

}  // namespace dcomp::ct
