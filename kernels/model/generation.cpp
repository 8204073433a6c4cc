// reference: transformers/generation/utils.py (greedy search: next token = argmax of the
// last logits; generation ends when an eos_token_id is produced or max_new_tokens is reached).
#include "kernels/model/generation.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <stdexcept>

namespace dcomp::model {

std::vector<int32_t> generate_greedy(const CausalLM& model, const std::vector<int32_t>& prompt, int64_t max_new_tokens,
                                     const std::vector<int64_t>& stop_ids) {
  if (prompt.empty()) throw std::invalid_argument("generation needs a non-empty prompt (at least the BOS token)");
  if (max_new_tokens < 0) throw std::invalid_argument("max_new_tokens must not be negative");
  std::vector<int32_t> tokens = prompt;
  if (max_new_tokens == 0) return tokens;

  KVCache cache = model.make_cache();
  at::Tensor input = at::tensor(std::vector<int64_t>(prompt.begin(), prompt.end()), at::kLong).unsqueeze(0);  // [1, P]
  for (int64_t step = 0; step < max_new_tokens; ++step) {
    const at::Tensor logits = model.forward(input, cache);  // [1, n, vocab]
    const int64_t next = logits.select(1, logits.size(1) - 1).argmax(-1).item<int64_t>();
    tokens.push_back(static_cast<int32_t>(next));
    if (std::find(stop_ids.begin(), stop_ids.end(), next) != stop_ids.end()) break;
    input = at::full({1, 1}, next, at::kLong);  // [1, 1]
  }
  return tokens;
}

}  // namespace dcomp::model
