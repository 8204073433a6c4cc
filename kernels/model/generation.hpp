// Greedy decoding with a KV cache: the prompt is run once, then each new token
// is the arg-max of the last position's logits and is fed back alone.
//
// reference: transformers/generation/utils.py (GenerationMixin._sample with
// do_sample=False: arg-max of the next-token logits, stop at an EOS id).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/model/causal_lm.hpp"

namespace dcomp::model {

/// Returns `prompt` (non-empty, usually starting with BOS) followed by up to
/// `max_new_tokens` greedily chosen tokens; stops right after emitting any id in
/// `stop_ids` (which is kept in the result).
std::vector<int32_t> generate_greedy(const CausalLM& model, const std::vector<int32_t>& prompt, int64_t max_new_tokens,
                                     const std::vector<int64_t>& stop_ids);

}  // namespace dcomp::model
