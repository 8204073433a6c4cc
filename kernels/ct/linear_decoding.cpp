// reference: compressed-tensors quantization/lifecycle/forward_helpers.py (_dequantize:
// (x_q - zero_point) * scale), compressors/pack_quantized/base.py
// (decompress: zero point unpacked along dim 0 to [out, n_groups]), and the legacy
// sparse_compressors/sparse_24_bitmask.py (decompress).
#include "kernels/ct/linear_decoding.hpp"

#include <ATen/ATen.h>

#include <utility>

#include <cmath>
#include <sstream>

#include "kernels/quant/element_formats.hpp"
#include "kernels/quant/fp4_e2m1.hpp"
#include "kernels/quant/fp8_e4m3.hpp"
#include "kernels/ct/linear_encoding.hpp"
#include "kernels/ct/sparse_24_bitmask.hpp"
#include "kernels/io/shape_text.hpp"
#include "kernels/quant/packing.hpp"

namespace dcomp::ct {
namespace {

using io::shape_text;

// Reads the tensors of one module, naming the file in every error.
class ModuleTensors {
 public:
  ModuleTensors(const io::CheckpointReader& reader, const std::string& module) : reader_(reader), module_(module) {}

  bool has(const std::string& suffix) const { return reader_.contains(name(suffix)); }
  std::string name(const std::string& suffix) const { return module_ + "." + suffix; }
  io::DType dtype(const std::string& suffix) const { return reader_.info(name(suffix)).dtype; }

  at::Tensor load(const std::string& suffix) const {
    if (!has(suffix)) fail("tensor \"" + name(suffix) + "\" is missing");
    return reader_.load(name(suffix));
  }
  at::Tensor optional(const std::string& suffix) const { return has(suffix) ? load(suffix) : at::Tensor(); }

  [[noreturn]] void fail(const std::string& problem) const {
    const std::string location = reader_.directory().string();
    throw DecodingError(location + ": Linear \"" + module_ + "\": " + problem);
  }

  [[noreturn]] void fail_at(const std::string& suffix, const std::string& problem) const {
    throw DecodingError(reader_.file_of(name(suffix)).string() + ": tensor \"" + name(suffix) + "\": " + problem);
  }

 private:
  const io::CheckpointReader& reader_;
  const std::string& module_;
};

bool is_floating(io::DType dtype) {
  return dtype == io::DType::F32 || dtype == io::DType::F16 || dtype == io::DType::BF16;
}

bool is_integer(io::DType dtype) {
  return dtype == io::DType::I8 || dtype == io::DType::I16 || dtype == io::DType::I32 || dtype == io::DType::I64;
}

// codes [out, in] stored as integers or FP8 → fp32 values, checked against the arguments.
at::Tensor codes_as_float(const ModuleTensors& tensors, const std::string& suffix, const at::Tensor& stored,
                          io::DType dtype, const quant::QuantizationArgs& args) {
  if (dtype == io::DType::F8_E4M3) {
    if (!args.traits().is_float) {
      tensors.fail_at(suffix, "holds FP8 values but the config quantizes this weight to integers");
    }
    return quant::decode_fp8_e4m3(stored);
  }
  if (args.traits().is_float) {
    tensors.fail_at(suffix, "holds " + io::dtype_name(dtype) + " values but the config quantizes this weight to FP8");
  }
  return stored.to(at::kFloat);
}

// The zero point of a packed weight: int32 packed along dim 0 for group/channel
// strategies, otherwise (and in older checkpoints) unpacked with the scale's shape.
at::Tensor pack_quantized_zero_point(const ModuleTensors& tensors, const quant::QuantizationArgs& args,
                                     const at::Tensor& scale, int64_t out_features) {
  if (args.symmetric) return {};
  if (!tensors.has("weight_zero_point")) tensors.fail("asymmetric quantization, but weight_zero_point is missing");
  const at::Tensor stored = tensors.load("weight_zero_point");
  if (!is_integer(tensors.dtype("weight_zero_point"))) {
    tensors.fail_at("weight_zero_point", "expected integers, got " + io::dtype_name(tensors.dtype("weight_zero_point")));
  }
  const int64_t packed_rows = quant::packed_word_count(out_features, args.num_bits);
  if (stored.dim() == 2 && scale.dim() == 2 && stored.scalar_type() == at::kInt && stored.size(0) == packed_rows &&
      stored.size(1) == scale.size(1) && packed_rows != out_features) {
    return quant::unpack_rows_from_int32(stored, args.num_bits, out_features);
  }
  if (stored.numel() == scale.numel()) return stored.reshape(scale.sizes());
  tensors.fail_at("weight_zero_point", "has shape " + shape_text(stored.sizes()) + ", which is neither the scale's " +
                                           shape_text(scale.sizes()) + " nor its dim-0 packing [" +
                                           std::to_string(packed_rows) + ", groups]");
}

at::Tensor expand_to_weight(const at::Tensor& per_group, const at::Tensor& g_idx, const quant::QuantizationArgs& args,
                            int64_t out_features, int64_t in_features) {
  switch (args.resolved_strategy()) {
    case quant::Strategy::Tensor: return per_group.reshape({1, 1});
    case quant::Strategy::Channel: return per_group.reshape({out_features, 1});
    case quant::Strategy::Group:
    case quant::Strategy::TensorGroup: {
      const at::Tensor columns = g_idx.defined()
                                     ? g_idx.to(at::kLong)
                                     : at::arange(in_features, at::kLong).div(*args.group_size, "floor");
      return per_group.index_select(1, columns);
    }
    case quant::Strategy::Block: {
      const auto& block = *args.block_structure;
      return per_group.repeat_interleave(block[0], 0)
          .repeat_interleave(block[1], 1)
          .narrow(0, 0, out_features)
          .narrow(1, 0, in_features);
    }
    case quant::Strategy::Token: break;
  }
  throw DecodingError("weights cannot use the token strategy");
}

// The effective scales of a group-scaled weight (element_formats.hpp), fp32 [out, groups]: FP8
// values divided by the global scale (NVFP4), or 2^(e − 127) of uint8 exponents (MXFP4).
at::Tensor group_effective_scale(const ModuleTensors& tensors, const quant::GroupScaleLayout& layout) {
  const io::DType dtype = tensors.dtype("weight_scale");
  const at::Tensor stored = tensors.load("weight_scale");
  const std::string name = layout.name;
  if (layout.scale_dtype == quant::ScaleDType::Fp8E4m3) {
    if (dtype != io::DType::F8_E4M3) {
      tensors.fail_at("weight_scale", name + " group scales are F8_E4M3, got " + io::dtype_name(dtype));
    }
    if (!layout.global_scale) return quant::decode_fp8_e4m3(stored);
    if (!tensors.has("weight_global_scale")) tensors.fail(name + " weights need weight_global_scale, which is missing");
    const at::Tensor global = tensors.load("weight_global_scale");
    if (global.numel() != 1 || !is_floating(tensors.dtype("weight_global_scale"))) {
      tensors.fail_at("weight_global_scale", "expected one floating value, got shape " + shape_text(global.sizes()));
    }
    const float value = global.to(at::kFloat).reshape({1}).item<float>();
    if (!(std::isfinite(value) && value > 0.0f)) {
      tensors.fail_at("weight_global_scale", "must be finite and positive, got " + std::to_string(value));
    }
    return quant::decode_fp8_e4m3(stored) / value;
  }
  if (dtype != io::DType::U8) {
    tensors.fail_at("weight_scale", name + " scales are uint8 exponents, got " + io::dtype_name(dtype));
  }
  return quant::decode_e8m0(stored);
}

// nvfp4- / mxfp4-pack-quantized: uint8 [out, in/2] holding two E2M1 codes per byte.
at::Tensor decode_fp4_packed(const ModuleTensors& tensors, const quant::QuantizationArgs& args) {
  const quant::GroupScaleLayout* layout = quant::group_scale_layout(args);
  if (args.traits().packing != quant::CodePacking::Fp4NibblePairs || layout == nullptr) {
    tensors.fail_at("weight_packed", "holds FP4 codes (uint8) but the config quantizes this weight to " +
                                         std::to_string(args.num_bits) + "-bit " + quant::to_string(args.type));
  }
  const at::Tensor packed = tensors.load("weight_packed");
  if (packed.dim() != 2) tensors.fail_at("weight_packed", "expected [out, in/2], got " + shape_text(packed.sizes()));
  const at::Tensor values = quant::decode_fp4_e2m1(quant::unpack_fp4_codes(packed));  // [out, in] fp32
  try {
    return dequantize_weight(values, group_effective_scale(tensors, *layout), {}, {}, args);
  } catch (const DecodingError& error) {
    tensors.fail_at("weight_packed", error.what());
  }
}

// pack-quantized: the int32 words of weight_packed [out, ceil(in·bits/32)] unpacked to codes
// [out, in] (weight_shape gives in), and the zero point; refuses any other packing, naming the tensor.
std::pair<at::Tensor, at::Tensor> unpack_int32_codes(const ModuleTensors& tensors, const quant::QuantizationArgs& args) {
  if (args.traits().packing != quant::CodePacking::Int32Words || tensors.dtype("weight_packed") != io::DType::I32) {
    tensors.fail_at("weight_packed", "only int32-packed integer weights are supported (got " +
                                         io::dtype_name(tensors.dtype("weight_packed")) + ", " +
                                         quant::to_string(args.type) + " weights)");
  }
  const at::Tensor shape = tensors.load("weight_shape");
  if (shape.numel() != 2 || !is_integer(tensors.dtype("weight_shape"))) {
    tensors.fail_at("weight_shape", "expected two integers [out, in], got shape " + shape_text(shape.sizes()));
  }
  const at::Tensor dims = shape.to(at::kLong).reshape({2});
  const int64_t out_features = dims[0].item<int64_t>(), in_features = dims[1].item<int64_t>();
  const at::Tensor packed = tensors.load("weight_packed");
  if (packed.dim() != 2 || packed.size(0) != out_features) {
    tensors.fail_at("weight_packed", "has shape " + shape_text(packed.sizes()) + " but weight_shape is " +
                                         shape_text({out_features, in_features}));
  }
  at::Tensor codes;
  try {
    codes = quant::unpack_from_int32(packed, args.num_bits, in_features);
  } catch (const std::invalid_argument& error) {
    tensors.fail_at("weight_packed", error.what());
  }
  const at::Tensor scale = tensors.load("weight_scale");
  return {codes, pack_quantized_zero_point(tensors, args, scale, out_features)};
}

}  // namespace

at::Tensor dequantize_weight(const at::Tensor& codes, const at::Tensor& scale, const at::Tensor& zero_point,
                             const at::Tensor& g_idx, const quant::QuantizationArgs& args) {
  const int64_t out_features = codes.size(0), in_features = codes.size(1);
  const std::vector<int64_t> expected = expected_scale_shape(args, out_features, in_features);
  if (!at::isFloatingType(scale.scalar_type())) {
    // An integer tensor here is a corrupt or foreign file: converting it would invent scales.
    throw DecodingError(std::string("scale is stored as ") + c10::toString(scale.scalar_type()) +
                        "; compressed-tensors stores scales as floating point");
  }
  if (scale.numel() != c10::multiply_integers(expected)) {
    throw DecodingError("scale has shape " + shape_text(scale.sizes()) + " but " +
                        quant::to_string(args.resolved_strategy()) + " quantization of a " +
                        shape_text({out_features, in_features}) + " weight needs " + shape_text(expected));
  }
  if (zero_point.defined() && zero_point.numel() != scale.numel()) {
    throw DecodingError("zero point has shape " + shape_text(zero_point.sizes()) + " but the scale has " +
                        shape_text(scale.sizes()));
  }
  const at::ScalarType compute = at::kFloat;  // exact for 16-bit scales, see the header
  const at::Tensor shaped_scale = scale.reshape(expected).to(at::kCPU).to(compute);
  if (g_idx.defined()) {
    if (args.resolved_strategy() != quant::Strategy::Group || g_idx.numel() != in_features) {
      throw DecodingError("g_idx needs group quantization and one entry per input column (" +
                          std::to_string(in_features) + "), got " + std::to_string(g_idx.numel()));
    }
    if (in_features > 0 && (g_idx.min().item<int64_t>() < 0 || g_idx.max().item<int64_t>() >= expected[1])) {
      throw DecodingError("g_idx refers to groups outside [0, " + std::to_string(expected[1]) + ")");
    }
  }
  at::Tensor values = codes.to(at::kCPU).to(compute);
  if (zero_point.defined()) {
    const at::Tensor shaped_zero_point = zero_point.reshape(expected).to(at::kCPU).to(compute);
    values = values - expand_to_weight(shaped_zero_point, g_idx, args, out_features, in_features);
  }
  values = values * expand_to_weight(shaped_scale, g_idx, args, out_features, in_features);
  return values.to(at::kFloat).contiguous();
}

at::Tensor decode_linear_weight(const io::CheckpointReader& reader, const std::string& module_name,
                                const quant::QuantizationArgs* weight_args) {
  const ModuleTensors tensors(reader, module_name);
  const auto require_args = [&](const std::string& suffix) -> const quant::QuantizationArgs& {
    if (!weight_args) tensors.fail_at(suffix, "holds quantized values but no config group quantizes this Linear");
    return *weight_args;
  };
  const auto dequantize = [&](const at::Tensor& codes, const std::string& suffix, const at::Tensor& zero_point,
                              const quant::QuantizationArgs& args) {
    try {
      // FP8 bytes with group scales of their own dtype take those (element_formats.hpp).
      const quant::GroupScaleLayout* layout =
          args.traits().packing == quant::CodePacking::Fp8Bytes ? quant::group_scale_layout(args) : nullptr;
      const at::Tensor scale =
          layout != nullptr ? group_effective_scale(tensors, *layout) : tensors.load("weight_scale");
      return dequantize_weight(codes, scale, zero_point, tensors.optional("weight_g_idx"), args);
    } catch (const DecodingError& error) {
      tensors.fail_at(suffix, error.what());
    }
  };

  if (tensors.has("weight_packed") && tensors.dtype("weight_packed") == io::DType::U8) {
    return decode_fp4_packed(tensors, require_args("weight_packed"));
  }
  if (tensors.has("weight_packed")) {
    const quant::QuantizationArgs& args = require_args("weight_packed");
    const auto [codes, zero_point] = unpack_int32_codes(tensors, args);
    return dequantize(codes, "weight_packed", zero_point, args);
  }

  std::string suffix = "weight";
  at::Tensor stored;
  io::DType dtype;
  if (tensors.has("compressed")) {  // legacy sparse-24-bitmask
    suffix = "compressed";
    dtype = tensors.dtype("compressed");
    try {
      stored = decompress_sparse_24(tensors.load("compressed"), tensors.load("bitmask"), tensors.load("shape"));
    } catch (const std::invalid_argument& error) {
      tensors.fail_at("compressed", error.what());
    }
  } else {
    if (!tensors.has("weight")) {
      tensors.fail("neither weight, weight_packed nor compressed (sparse-24-bitmask) is in the checkpoint");
    }
    dtype = tensors.dtype("weight");
    stored = tensors.load("weight");
  }
  if (stored.dim() != 2) tensors.fail_at(suffix, "expected a 2-D [out, in] weight, got " + shape_text(stored.sizes()));
  if (is_floating(dtype)) return stored.to(at::kFloat, false, /*copy=*/true).contiguous();
  if (dtype != io::DType::F8_E4M3 && dtype != io::DType::I8) {
    tensors.fail_at(suffix, "unsupported dtype " + io::dtype_name(dtype) + " for a Linear weight");
  }
  const quant::QuantizationArgs& args = require_args(suffix);
  const at::Tensor codes = codes_as_float(tensors, suffix, stored, dtype, args);
  at::Tensor zero_point;
  if (!args.symmetric) {
    if (!tensors.has("weight_zero_point")) tensors.fail("asymmetric quantization, but weight_zero_point is missing");
    zero_point = tensors.load("weight_zero_point");
  }
  return dequantize(codes, suffix, zero_point, args);
}

}  // namespace dcomp::ct
