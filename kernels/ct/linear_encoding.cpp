// reference: compressed-tensors src/compressed_tensors/compressors/pack_quantized/base.py
// (weight_packed, weight_shape, zero point packed along dim 0 for group/channel) and
// compressors/naive_quantized/base.py (weight in the quantized dtype, symmetric zero
// points removed), quantization/lifecycle/initialize.py (scale shapes).
#include "kernels/ct/linear_encoding.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <sstream>

#include "kernels/ct/compression_format.hpp"
#include "kernels/ct/sparse_24_bitmask.hpp"
#include "kernels/io/shape_text.hpp"
#include "kernels/quant/element_formats.hpp"
#include "kernels/quant/fp4_e2m1.hpp"
#include "kernels/quant/fp8_e4m3.hpp"
#include "kernels/quant/packing.hpp"

namespace dcomp::ct {
namespace {

using io::shape_text;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

class Encoder {
 public:
  Encoder(const std::string& module, const quant::CompressedWeight& weight, const std::string& format,
          at::ScalarType model_dtype)
      : module_(module), weight_(weight), format_(format), model_dtype_(model_dtype) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw EncodingError("compressed Linear \"" + module_ + "\" (" + format_ + "): " + problem);
  }

  std::vector<io::NamedTensor> dense(bool legacy_sparse_24_bitmask) {
    if (weight_.weight_args) fail("quantized weights cannot be stored in the dense format");
    const at::Tensor& effective = weight_.effective_weight;
    if (!effective.defined() || effective.dim() != 2 || !at::isFloatingType(effective.scalar_type())) {
      fail("a pruned-only weight needs effective_weight, a floating [out, in] tensor");
    }
    at::Tensor stored = effective.to(at::kCPU).to(model_dtype_).contiguous();
    if (legacy_sparse_24_bitmask && weight_.sparsity_structure == "2:4") {
      Sparse24Bitmask sparse;
      try {
        sparse = compress_sparse_24(stored);
      } catch (const std::invalid_argument& error) {
        fail(error.what());
      }
      add("compressed", sparse.compressed);
      add("bitmask", sparse.bitmask);
      add("shape", sparse.shape);
    } else {
      add("weight", stored);
    }
    add_input_quantization();
    return std::move(tensors_);
  }

  std::vector<io::NamedTensor> quantized() {
    if (!weight_.weight_args) fail("the weight is not quantized; a pruned-only weight is stored as dense");
    const quant::QuantizationArgs& args = *weight_.weight_args;
    try {
      args.validate();
    } catch (const quant::QuantConfigError& error) {
      fail(error.what());
    }
    if (args.dynamic) fail("weights cannot be quantized dynamically");
    quant::ElementFormat format_element = quant::ElementFormat::Int;
    const quant::GroupScaleLayout* format_layout = quant::group_scale_layout_of_format(format_, &format_element);
    if (format_layout != nullptr || quant::group_scale_layout(args) != nullptr) {
      return group_scaled(args, format_layout, format_element);
    }
    const bool is_int = !args.traits().is_float;
    if ((format_ == format::kPackQuantized || format_ == format::kIntQuantized) && !is_int) {
      fail("the format stores integer weights, but the weights are FP8");
    }
    if (format_ == format::kFloatQuantized && is_int) fail("the format stores FP8 weights, but the weights are integer");

    const at::Tensor& codes = weight_.codes;
    if (!codes.defined() || codes.dim() != 2) fail("codes must be a 2-D [out, in] tensor");
    out_ = codes.size(0);
    in_ = codes.size(1);
    if (is_int && !at::isIntegralType(codes.scalar_type(), false)) fail("integer codes must have an integer dtype");
    if (!is_int && codes.scalar_type() != at::kByte) fail("FP8 codes must be uint8 E4M3 bit patterns");

    const at::Tensor scale = checked_scale(args);
    const at::Tensor zero_point = checked_zero_point(args, scale);

    if (format_ == format::kPackQuantized) {
      try {
        add("weight_packed", quant::pack_to_int32(codes, args.num_bits));
      } catch (const std::invalid_argument& error) {
        fail(error.what());
      }
      add("weight_scale", scale);
      add("weight_shape", at::tensor(std::vector<int64_t>{out_, in_}, at::kLong));
      if (zero_point.defined()) {
        const auto strategy = args.resolved_strategy();
        if (strategy == quant::Strategy::Group || strategy == quant::Strategy::Channel) {
          add("weight_zero_point", quant::pack_rows_to_int32(zero_point, args.num_bits));
        } else {
          add("weight_zero_point", zero_point.to(at::kChar));
        }
      }
    } else {
      if (is_int) {
        check_int_range(codes, args, "codes");
        add("weight", codes.to(at::kCPU).to(at::kChar).contiguous());
      } else {
        add_fp8_codes(codes);
      }
      add("weight_scale", scale);
      if (zero_point.defined()) add("weight_zero_point", zero_point.to(at::kChar));
    }
    add_g_idx(args, scale);
    add_input_quantization();
    return std::move(tensors_);
  }

 private:
  // A format whose groups carry scales of their own dtype (element_formats.hpp), e.g.
  // nvfp4- / mxfp4-pack-quantized: weight_packed uint8 [out, in/2] (two E2M1 codes a byte),
  // weight_scale F8_E4M3 (NVFP4) or uint8 E8M0 exponents (MXFP4) [out, in/group_size],
  // weight_global_scale F32 [1] (NVFP4).
  std::vector<io::NamedTensor> group_scaled(const quant::QuantizationArgs& args,
                                            const quant::GroupScaleLayout* format_layout,
                                            quant::ElementFormat format_element) {
    const quant::ElementFormatTraits& element = args.traits();
    if (format_layout == nullptr) fail(std::string(element.name) + " weights are stored as " + layout_formats(element));
    if (args.element_format() != format_element) {
      fail("the format stores " + std::string(quant::element_format_traits(format_element).name) +
           " weights, but the weights are " + std::to_string(args.num_bits) + "-bit " + quant::to_string(args.type));
    }
    if (quant::group_scale_layout(args) != format_layout) {
      fail(format_ + " needs the " + quant::to_string(format_layout->strategy) + " strategy with groups of " +
           std::to_string(format_layout->group_size) + (format_layout->global_scale ? " and a global scale" : ""));
    }
    const at::Tensor& codes = weight_.codes;
    if (!codes.defined() || codes.dim() != 2 || codes.scalar_type() != at::kByte) {
      fail(std::string(element.name) + " codes must be a 2-D uint8 [out, in] tensor of " + element.encoding + " codes");
    }
    out_ = codes.size(0);
    in_ = codes.size(1);
    if (element.packing == quant::CodePacking::Fp4NibblePairs && in_ % 2 != 0) {
      fail("FP4 packing needs an even number of input columns, got " + std::to_string(in_));
    }
    const at::Tensor scale = checked_scale(args, at::kFloat);  // FP8 / power-of-two values, kept exact
    if (weight_.zero_point.defined() && weight_.zero_point.numel() > 0 && weight_.zero_point.ne(0).any().item<bool>()) {
      fail(std::string(element.name) + " quantization is symmetric, but a non-zero zero point is given");
    }
    add_packed_codes(element, codes);
    add_group_scales(*format_layout, scale);
    add_input_quantization();
    return std::move(tensors_);
  }

  // "nvfp4-pack-quantized or mxfp4-pack-quantized": the formats storing the element's group layouts.
  static std::string layout_formats(const quant::ElementFormatTraits& element) {
    std::string names;
    for (int i = 0; i < element.group_layout_count; ++i) {
      names += (i == 0 ? "" : " or ") + std::string(element.group_layouts[i].compression_format);
    }
    return names;
  }

  // codes uint8 [out, in] → weight_packed (two E2M1 codes a byte) or weight (F8_E4M3 bytes).
  void add_packed_codes(const quant::ElementFormatTraits& element, const at::Tensor& codes) {
    switch (element.packing) {
      case quant::CodePacking::Fp4NibblePairs:
        try {
          add("weight_packed", quant::pack_fp4_codes(codes.to(at::kCPU)));
        } catch (const std::invalid_argument& error) {
          fail(error.what());
        }
        return;
      case quant::CodePacking::Fp8Bytes: add_fp8_codes(codes); return;
      case quant::CodePacking::Int32Words: break;
    }
    fail(std::string(element.name) + " codes have no group-scaled format");
  }

  // codes uint8 [out, in] E4M3 bit patterns → weight F8_E4M3 [out, in].
  void add_fp8_codes(const at::Tensor& codes) {
    if (codes.numel() > 0 && codes.bitwise_and(0x7F).eq(0x7F).any().item<bool>()) {
      fail("FP8 codes contain the NaN pattern 0x7F / 0xFF");
    }
    tensors_.push_back({module_ + ".weight", codes.to(at::kCPU).contiguous(), io::DType::F8_E4M3});
  }

  // scale fp32 [out, groups] → weight_scale in the layout's scale dtype, and weight_global_scale
  // F32 [1] where the layout has one.
  void add_group_scales(const quant::GroupScaleLayout& layout, const at::Tensor& scale) {
    switch (layout.scale_dtype) {
      case quant::ScaleDType::Fp8E4m3: {
        const at::Tensor stored = quant::encode_fp8_e4m3(scale);
        if (!at::equal(quant::decode_fp8_e4m3(stored), scale)) {
          fail(std::string(layout.name) + " group scales must be FP8 E4M3 values");
        }
        tensors_.push_back({module_ + ".weight_scale", stored, io::DType::F8_E4M3});
        break;
      }
      case quant::ScaleDType::E8M0: add("weight_scale", mx_exponents(layout, scale)); break;
      case quant::ScaleDType::Native: fail(std::string(layout.name) + " group scales need a dtype of their own");
    }
    if (layout.global_scale) {
      const at::Tensor& global = weight_.global_scale;
      if (!global.defined() || global.numel() != 1 || !at::isFloatingType(global.scalar_type())) {
        fail(std::string(layout.name) + " weights need weight_global_scale, one floating value");
      }
      add("weight_global_scale", global.reshape({1}).to(at::kFloat));
    } else if (weight_.global_scale.defined()) {
      fail(std::string(layout.name) + " weights have no global scale");
    }
  }

  // Power-of-two scales → their E8M0 exponents 127 + log2(scale) (uint8).
  at::Tensor mx_exponents(const quant::GroupScaleLayout& layout, const at::Tensor& scale) const {
    const at::Tensor values = scale.contiguous();
    at::Tensor exponents = at::empty(values.sizes(), at::kByte);
    const float* in = values.data_ptr<float>();
    uint8_t* out = exponents.data_ptr<uint8_t>();
    for (int64_t i = 0; i < values.numel(); ++i) {
      int exponent = 0;
      const float mantissa = std::frexp(in[i], &exponent);  // in = mantissa · 2^exponent, mantissa in [0.5, 1)
      const int biased = exponent - 1 + 127;
      if (mantissa != 0.5f || biased < 0 || biased > 255) {
        fail(std::string(layout.name) + " scale " + std::to_string(in[i]) + " is not a power of two in E8M0's range");
      }
      out[i] = static_cast<uint8_t>(biased);
    }
    return exponents;
  }

  void add(const std::string& suffix, const at::Tensor& tensor) {
    tensors_.push_back({module_ + "." + suffix, tensor.to(at::kCPU).contiguous(), std::nullopt});
  }

  void check_int_range(const at::Tensor& values, const quant::QuantizationArgs& args, const std::string& what) const {
    if (values.numel() == 0) return;
    const int64_t low = static_cast<int64_t>(args.q_min()), high = static_cast<int64_t>(args.q_max());
    const int64_t smallest = values.min().item<int64_t>(), largest = values.max().item<int64_t>();
    if (smallest < low || largest > high) {
      fail(what + " span [" + std::to_string(smallest) + ", " + std::to_string(largest) + "], outside the " +
           std::to_string(args.num_bits) + "-bit range [" + std::to_string(low) + ", " + std::to_string(high) + "]");
    }
  }

  at::Tensor checked_scale(const quant::QuantizationArgs& args) const { return checked_scale(args, model_dtype_); }

  at::Tensor checked_scale(const quant::QuantizationArgs& args, at::ScalarType dtype) const {
    const at::Tensor& scale = weight_.scale;
    if (!scale.defined() || !at::isFloatingType(scale.scalar_type())) fail("scale must be a floating tensor");
    const std::vector<int64_t> expected = expected_scale_shape(args, out_, in_);
    at::Tensor shaped = scale;
    if (scale.numel() == c10::multiply_integers(expected)) shaped = scale.reshape(expected);
    if (shaped.sizes() != at::IntArrayRef(expected)) {
      fail("scale has shape " + shape_text(scale.sizes()) + " but " + quant::to_string(args.resolved_strategy()) +
           " quantization of a " + shape_text({out_, in_}) + " weight needs " + shape_text(expected));
    }
    return shaped.to(at::kCPU).to(dtype).contiguous();
  }

  at::Tensor checked_zero_point(const quant::QuantizationArgs& args, const at::Tensor& scale) const {
    const at::Tensor& zero_point = weight_.zero_point;
    if (args.symmetric) {
      if (zero_point.defined() && zero_point.numel() > 0 && zero_point.ne(0).any().item<bool>()) {
        fail("symmetric quantization has a non-zero zero point");
      }
      return {};
    }
    if (args.traits().is_float) fail("asymmetric FP8 quantization cannot be stored");
    if (!zero_point.defined() || !at::isIntegralType(zero_point.scalar_type(), false)) {
      fail("asymmetric quantization needs an integer zero_point");
    }
    if (zero_point.numel() != scale.numel()) {
      fail("zero_point has shape " + shape_text(zero_point.sizes()) + " but the scale has " +
           shape_text(scale.sizes()));
    }
    const at::Tensor shaped = zero_point.reshape(scale.sizes()).to(at::kCPU).contiguous();
    check_int_range(shaped, args, "zero points");
    return shaped;
  }

  void add_g_idx(const quant::QuantizationArgs& args, const at::Tensor& scale) {
    const at::Tensor& g_idx = weight_.g_idx;
    if (args.actorder != quant::ActOrder::Group) {
      if (g_idx.defined()) fail("g_idx is given but the activation ordering is not \"group\"");
      return;
    }
    if (!g_idx.defined() || g_idx.dim() != 1 || g_idx.size(0) != in_ ||
        !at::isIntegralType(g_idx.scalar_type(), false)) {
      fail("group activation ordering needs g_idx, an integer [" + std::to_string(in_) + "] tensor");
    }
    if (in_ > 0) {
      const int64_t groups = scale.size(1);
      const int64_t smallest = g_idx.min().item<int64_t>(), largest = g_idx.max().item<int64_t>();
      if (smallest < 0 || largest >= groups) {
        fail("g_idx spans [" + std::to_string(smallest) + ", " + std::to_string(largest) + "] but there are " +
             std::to_string(groups) + " groups");
      }
    }
    add("weight_g_idx", g_idx.to(at::kInt));
  }

  void add_input_quantization() {
    if (weight_.input_args && weight_.input_args->local_dynamic) {
      const at::Tensor& global = weight_.input_global_scale;
      if (!global.defined() || global.numel() != 1 || !at::isFloatingType(global.scalar_type())) {
        fail("locally dynamic (NVFP4) input activations need input_global_scale, one floating value");
      }
      add("input_global_scale", global.reshape({1}).to(at::kFloat));
      return;
    }
    if (!weight_.input_args || weight_.input_args->dynamic) return;
    const quant::QuantizationArgs& args = *weight_.input_args;
    const at::Tensor& scale = weight_.input_scale;
    if (!scale.defined() || scale.numel() != 1 || !at::isFloatingType(scale.scalar_type())) {
      fail("static input activation quantization needs input_scale, one floating value");
    }
    add("input_scale", scale.reshape({1}).to(model_dtype_));
    if (!args.symmetric) {
      const at::Tensor& zero_point = weight_.input_zero_point;
      if (!zero_point.defined() || zero_point.numel() != 1) {
        fail("asymmetric static input activations need input_zero_point, one integer");
      }
      check_int_range(zero_point, args, "input zero point");
      add("input_zero_point", zero_point.reshape({1}).to(at::kChar));
    }
  }

  const std::string& module_;
  const quant::CompressedWeight& weight_;
  const std::string& format_;
  at::ScalarType model_dtype_;
  int64_t out_ = 0;
  int64_t in_ = 0;
  std::vector<io::NamedTensor> tensors_;
};

}  // namespace

std::vector<int64_t> expected_scale_shape(const quant::QuantizationArgs& args, int64_t out_features,
                                          int64_t in_features) {
  switch (args.resolved_strategy()) {
    case quant::Strategy::Tensor: return {1};
    case quant::Strategy::Channel: return {out_features, 1};
    case quant::Strategy::Group:
    case quant::Strategy::TensorGroup: return {out_features, ceil_div(in_features, *args.group_size)};
    case quant::Strategy::Block: {
      const auto& block = *args.block_structure;
      return {ceil_div(out_features, block[0]), ceil_div(in_features, block[1])};
    }
    case quant::Strategy::Token: break;
  }
  throw quant::QuantConfigError("weights cannot use the token strategy (it is dynamic, for activations)");
}

std::vector<io::NamedTensor> encode_compressed_linear(const std::string& module_name,
                                                      const quant::CompressedWeight& weight, const std::string& format,
                                                      at::ScalarType model_dtype, bool legacy_sparse_24_bitmask) {
  if (model_dtype != at::kFloat && model_dtype != at::kHalf && model_dtype != at::kBFloat16) {
    throw EncodingError("compressed Linear \"" + module_name + "\": the model dtype must be F32, F16 or BF16, not " +
                        c10::toString(model_dtype));
  }
  if (!is_supported_format(format)) {
    throw EncodingError("compressed Linear \"" + module_name + "\": format \"" + format +
                        "\" cannot be written (supported: dense, pack-quantized, int-quantized, float-quantized, "
                        "naive-quantized, nvfp4-pack-quantized, mxfp4-pack-quantized)");
  }
  Encoder encoder(module_name, weight, format, model_dtype);
  return format == format::kDense ? encoder.dense(legacy_sparse_24_bitmask) : encoder.quantized();
}

}  // namespace dcomp::ct
