// reference: DeepSeek-V3 inference/kernel.py (weight_dequant: scale s[r // B][c // B]) and
// inference/fp8_cast_bf16.py; vLLM model_executor/layers/quantization/fp8.py.
#include "kernels/ct/fp8_block_checkpoint.hpp"

#include <memory>
#include <vector>

#include <ATen/ATen.h>

#include "kernels/ct/linear_decoding.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/io/shape_text.hpp"
#include "kernels/quant/fp8_e4m3.hpp"

namespace dcomp::ct {

using io::shape_text;

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// weight_scale_inv as fp32: F32 and BF16 widened exactly; F8_E8M0 exponents e → 2^(e − 127).
at::Tensor scale_as_fp32(const at::Tensor& stored, io::DType dtype, const std::string& what) {
  if (dtype == io::DType::F32 || dtype == io::DType::BF16 || dtype == io::DType::F16) return stored.to(at::kFloat);
  if (dtype == io::DType::F8_E8M0) {
    if (stored.eq(255).any().item<bool>()) throw DecodingError(what + ": an F8_E8M0 scale is 255 (NaN)");
    return quant::decode_e8m0(stored);
  }
  throw DecodingError(what + ": block scales must be F32, BF16, F16 or F8_E8M0, got " + io::dtype_name(dtype));
}

}  // namespace

std::optional<Fp8BlockFormat> fp8_block_format(const nlohmann::json& quantization_config, const std::string& where) {
  if (!quantization_config.is_object()) return std::nullopt;
  const auto method = quantization_config.find("quant_method");
  if (method == quantization_config.end() || !method->is_string() || method->get<std::string>() != "fp8") {
    return std::nullopt;
  }
  const std::string field = where + ": quantization_config.";
  const auto fmt = quantization_config.find("fmt");
  if (fmt != quantization_config.end() && !fmt->is_null() && *fmt != "e4m3") {
    throw DecodingError(field + "fmt is " + fmt->dump() + "; FP8 block checkpoints are read in e4m3 only");
  }
  const auto block = quantization_config.find("weight_block_size");
  if (block == quantization_config.end() || block->is_null()) {
    throw DecodingError(field + "weight_block_size is missing: only block-quantized FP8 checkpoints "
                        "(weight_scale_inv per block, as DeepSeek-V3 and the Qwen3 -FP8 models) are read");
  }
  if (!block->is_array() || block->size() != 2 || !(*block)[0].is_number_integer() ||
      !(*block)[1].is_number_integer() || (*block)[0].get<int64_t>() <= 0 || (*block)[1].get<int64_t>() <= 0) {
    throw DecodingError(field + "weight_block_size must be two positive integers, got " + block->dump());
  }
  return Fp8BlockFormat{(*block)[0].get<int64_t>(), (*block)[1].get<int64_t>()};
}

at::Tensor dequantize_fp8_blocks(const at::Tensor& codes, const at::Tensor& scale_inv, const Fp8BlockFormat& format,
                                 const std::string& what) {
  if (codes.dim() != 2 || codes.scalar_type() != at::kByte) {
    throw DecodingError(what + ": an FP8 block weight must be a 2-D F8_E4M3 tensor, got " + shape_text(codes.sizes()));
  }
  const int64_t rows = codes.size(0), columns = codes.size(1);
  const std::vector<int64_t> expected = {ceil_div(rows, format.block_rows), ceil_div(columns, format.block_columns)};
  if (scale_inv.sizes() != at::IntArrayRef(expected)) {
    throw DecodingError(what + " has shape " + shape_text(scale_inv.sizes()) + " but a " + shape_text(codes.sizes()) +
                        " weight in blocks of [" + std::to_string(format.block_rows) + ", " +
                        std::to_string(format.block_columns) + "] needs " + shape_text(expected));
  }
  at::Tensor values = quant::decode_fp8_e4m3(codes.contiguous());  // [rows, columns] fp32
  const at::Tensor scale = scale_inv.to(at::kFloat).contiguous();
  // One block row at a time: its scales repeated along the columns, so the transient is one row
  // of blocks, never a second weight.
  for (int64_t block_row = 0; block_row < expected[0]; ++block_row) {
    const int64_t first = block_row * format.block_rows;
    const int64_t count = std::min(format.block_rows, rows - first);
    const at::Tensor row_scale =
        scale.select(0, block_row).repeat_interleave(format.block_columns).narrow(0, 0, columns);  // [columns]
    values.narrow(0, first, count).mul_(row_scale.unsqueeze(0));
  }
  return values;
}

model::LinearLoader fp8_block_linear_loader(const std::filesystem::path& model_dir, const Fp8BlockFormat& format) {
  auto reader = std::make_shared<const io::CheckpointReader>(model_dir);
  return [reader, format](const std::string& module_name) {
    model::LinearWeights weights;
    const std::string weight_name = module_name + ".weight";
    const std::string file = reader->file_of(weight_name).string();
    if (reader->info(weight_name).dtype == io::DType::F8_E4M3) {
      const std::string scale_name = module_name + ".weight_scale_inv";
      if (!reader->contains(scale_name)) {
        throw DecodingError(file + ": " + weight_name + " is F8_E4M3 but " + scale_name +
                            " (its block scales) is missing");
      }
      const std::string what = reader->file_of(scale_name).string() + ": " + scale_name;
      const at::Tensor scale = scale_as_fp32(reader->load(scale_name), reader->info(scale_name).dtype, what);
      weights.weight = dequantize_fp8_blocks(reader->load(weight_name), scale, format, what);
    } else {
      weights.weight = model::to_owned_fp32(reader->load(weight_name), weight_name, file);
    }
    const std::string bias_name = module_name + ".bias";
    if (reader->contains(bias_name)) {
      weights.bias = model::to_owned_fp32(reader->load(bias_name), bias_name, reader->file_of(bias_name).string());
    }
    // The Linear is an owned copy now: its file pages leave this process, as the pipeline's
    // own reader drops each layer's (a streamed run stays at one layer, not the whole model).
    reader->release_prefix(module_name + ".");
    return weights;
  };
}

}  // namespace dcomp::ct
