// The compressed form of one Linear weight, as produced by the quantization and
// pruning algorithms and consumed by the compressed-tensors writer.
#pragma once

#include <optional>
#include <string>

#include <ATen/core/Tensor.h>

#include "kernels/quant/quant_args.hpp"

namespace dcomp::quant {

struct CompressedWeight {
  /// Weight quantization; nullopt for a weight that is only pruned.
  std::optional<QuantizationArgs> weight_args;
  /// Input activation quantization declared for this module (dynamic or static).
  std::optional<QuantizationArgs> input_args;

  at::Tensor codes;       // [out, in] int8 integer codes (Int), uint8 E4M3 bit patterns (FP8) or E2M1 codes 0..15 (FP4)
  at::Tensor scale;       // fp32: Tensor [1], Channel [out, 1], Group / TensorGroup [out, in / group_size]
  at::Tensor global_scale;  // fp32 [1]: TensorGroup (NVFP4) only; the codes' scale is scale / global_scale
  at::Tensor zero_point;  // int32, same shape as scale; undefined when symmetric
  at::Tensor g_idx;       // int32 [in]: column → group; only for actorder Group
  at::Tensor input_scale;       // fp32 [1]: static input activation scale (FP8 / static INT8)
  at::Tensor input_zero_point;  // int32 [1]: only for asymmetric static activations
  at::Tensor input_global_scale;  // fp32 [1]: locally dynamic (NVFP4) activations, calibrated
  at::Tensor sparsity_mask;     // bool [out, in] (true = kept); undefined when not pruned
  std::string sparsity_structure;  // "2:4", "unstructured", or empty

  /// The dequantized (and/or pruned) weight the model continues with: [out, in] fp32.
  at::Tensor effective_weight;
};

}  // namespace dcomp::quant
