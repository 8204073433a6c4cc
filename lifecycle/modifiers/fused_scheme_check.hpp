// Fused Linears quantized alike. vLLM runs q/k/v as one qkv_proj, gate/up as one gate_up_proj
// (per expert too) and DeepSeek-V3's q_a_proj with kv_a_proj_with_mqa as one fused_qkv_a_proj,
// and builds one quantization scheme for the fused Linear: a checkpoint whose shards were
// quantized differently, or only some of them, does not load. A recipe that would write one is
// refused at initialize, naming the modules and their schemes, not after hours of calibration.
//
// reference: vLLM model_executor/layers/quantization/compressed_tensors/compressed_tensors.py
// (_get_scheme_from_parts / get_scheme: "all shards of a fused layer must have the same
// scheme"), and the models' packed_modules_mapping (qkv_proj, gate_up_proj, fused_qkv_a_proj).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "kernels/quant/quant_args.hpp"
#include "lifecycle/model_handle.hpp"

namespace dcomp::lifecycle {

/// Throws RecipeError (prefixed with `where`) when a fused group of `model` has members that
/// `scheme_of` quantizes and members it leaves alone, or members with different schemes
/// (weights, input and output activations and format compared; not the targets that chose them).
void refuse_mixed_fused_schemes(const ModelHandle& model,
                                const std::function<std::optional<quant::QuantizationScheme>(const ModuleInfo&)>& scheme_of,
                                const std::string& where);

}  // namespace dcomp::lifecycle
