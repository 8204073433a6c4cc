// Checks a dense model folder as a whole before any work: every tensor that config.json
// implies is there with its shape and a floating dtype, no tensor is left over (a
// checkpoint deeper or wider than its config), and the index's shard of each tensor holds
// it. Reads safetensors headers only, so it takes milliseconds even for a model of 70 B
// parameters, where finding the same problem at its layer could take hours.
// reference: transformers/models/llama/modeling_llama.py (the state dict of
// LlamaForCausalLM, as in weight_loading.hpp).
#pragma once

#include <functional>
#include <string>

#include "kernels/model/fp8_block_format.hpp"

#include "kernels/io/safetensors.hpp"
#include "kernels/model/model_config.hpp"

namespace dcomp::model {

/// Whether the Linear `module` ("model.layers.0.self_attn.q_proj") of a compressed-tensors input
/// is stored compressed: its tensors (weight_packed, weight_scale, ...) are then checked by its
/// decoder when the layer is read, and here only for being there.
using CompressedLinearTest = std::function<bool(const std::string& module)>;

/// Throws ModelConfigError naming the file and the first problem found; lists how many
/// more there are. With `fp8_blocks` (an FP8 block release), a 2-D weight may also be
/// F8_E4M3, and then its `weight_scale_inv` must be there: F32, BF16, F16 or F8_E8M0, of shape
/// [ceil(rows / B0), ceil(columns / B1)]. With `compressed`, the Linears it names need a
/// `weight` or `weight_packed` and may hold any tensors of their own.
void validate_dense_checkpoint(const io::CheckpointReader& reader, const ModelConfig& config,
                               const Fp8BlockFormat* fp8_blocks = nullptr, const CompressedLinearTest& compressed = {});

}  // namespace dcomp::model
