// Round-to-nearest quantization of one module and the input-activation part
// of a scheme, shared by QuantizationModifier and GPTQModifier.
// reference: compressed-tensors quantization/lifecycle/forward.py; llm-compressor
//            modifiers/quantization/calibration.py (static activation qparams)
#pragma once

#include "kernels/quant/compressed_weight.hpp"
#include "kernels/quant/quant_args.hpp"
#include "lifecycle/layer_work.hpp"

namespace dcomp::lifecycle {

/// Whether a scheme needs calibration statistics of the module input (static activations,
/// or NVFP4's locally dynamic ones, whose global scale is calibrated).
bool needs_static_input_scale(const quant::QuantizationScheme& scheme);

/// RTN: qparams from the weight observer, integer (E4M3, E2M1) codes, dequantized weight.
/// `global_scale` (fp32 [1]) is required for tensor_group (NVFP4) weights.
quant::CompressedWeight quantize_round_to_nearest(const at::Tensor& weight /* [out, in] fp32 */,
                                                  const quant::QuantizationArgs& args,
                                                  const at::Tensor& global_scale = {});

/// Records the scheme's input activation args; for static input activations,
/// computes the per-tensor scale (and zero point) from the input's channel
/// ranges (static min/max over all calibration tokens); for locally dynamic (NVFP4)
/// ones, the input global scale from the same ranges.
void attach_input_quantization(quant::CompressedWeight& weight, const quant::QuantizationScheme& scheme,
                               const InputStatistics* input, const std::string& module_name);

/// Keeps a pruned weight's zeros: codes of pruned entries become the code of 0.
void apply_sparsity_mask(quant::CompressedWeight& weight);

}  // namespace dcomp::lifecycle
