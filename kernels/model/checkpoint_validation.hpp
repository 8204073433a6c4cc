// Checks a dense model folder as a whole before any work: every tensor that config.json
// implies is there with its shape and a floating dtype, no tensor is left over (a
// checkpoint deeper or wider than its config), and the index's shard of each tensor holds
// it. Reads safetensors headers only, so it takes milliseconds even for a model of 70 B
// parameters, where finding the same problem at its layer could take hours.
// reference: transformers/models/llama/modeling_llama.py (the state dict of
// LlamaForCausalLM, as in weight_loading.hpp).
#pragma once

#include "kernels/model/fp8_block_format.hpp"

#include "kernels/io/safetensors.hpp"
#include "kernels/model/model_config.hpp"

namespace dcomp::model {

/// Throws ModelConfigError naming the file and the first problem found; lists how many
/// more there are. With `fp8_blocks` (an FP8 block release), a 2-D weight may also be
/// F8_E4M3, and then its `weight_scale_inv` must be there: F32, BF16, F16 or F8_E8M0, of shape
/// [ceil(rows / B0), ceil(columns / B1)].
void validate_dense_checkpoint(const io::CheckpointReader& reader, const ModelConfig& config,
                               const Fp8BlockFormat* fp8_blocks = nullptr);

}  // namespace dcomp::model
