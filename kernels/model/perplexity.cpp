// reference: Hugging Face transformers docs, "Perplexity of fixed-length models"
// (disjoint windows, mean token NLL, exp); llama.cpp tools/perplexity (BOS at window start).
#include "kernels/model/perplexity.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/model/embedding_and_head.hpp"

namespace dcomp::model {
namespace {

// Positions per LM-head chunk: bounds the [chunk, vocab] logits held at once (128 × a
// 49152-token vocabulary is 25 MB, small enough for malloc to reuse instead of mapping anew).
constexpr int64_t kHeadChunk = 128;

// Sum of -log p(targets[i] | position i) over the positions of hidden [1, n, hidden].
double window_nll_sum(const CausalLM& model, const at::Tensor& hidden, const at::Tensor& targets) {
  double total = 0;
  const int64_t positions = targets.size(0);
  for (int64_t begin = 0; begin < positions; begin += kHeadChunk) {
    const int64_t count = std::min(kHeadChunk, positions - begin);
    const at::Tensor logits =
        lm_head_logits(model.config(), model.embedding_and_head(), hidden.narrow(1, begin, count)).squeeze(0);  // [c, V]
    // -log p(t) = logsumexp(logits) - logits[t], without a second [c, V] tensor.
    const at::Tensor normalizers = at::logsumexp(logits, /*dim=*/-1);                                          // [c]
    const at::Tensor picked = logits.gather(1, targets.narrow(0, begin, count).unsqueeze(1)).squeeze(1);      // [c]
    total += (normalizers.to(at::kDouble) - picked.to(at::kDouble)).sum().item<double>();
  }
  return total;
}

}  // namespace

PerplexityResult evaluate_perplexity(const CausalLM& model, const std::vector<int32_t>& text_tokens, int32_t bos_id,
                                     int64_t window_length, const PerplexityProgress& progress) {
  if (window_length < 2) {
    throw std::invalid_argument("perplexity window length must be at least 2 (BOS and one token), got " +
                                std::to_string(window_length));
  }
  if (text_tokens.empty()) throw std::invalid_argument("perplexity needs at least one text token");
  const int64_t stride = window_length - 1;  // text tokens per window
  const int64_t count = static_cast<int64_t>(text_tokens.size());
  const int64_t windows = (count + stride - 1) / stride;

  double nll_sum = 0;
  for (int64_t window = 0; window < windows; ++window) {
    const int64_t begin = window * stride;
    const int64_t length = std::min(stride, count - begin);
    std::vector<int64_t> input(static_cast<size_t>(length + 1));  // BOS, t_begin .. t_(begin+length-1)
    input[0] = bos_id;
    std::copy(text_tokens.begin() + begin, text_tokens.begin() + begin + length, input.begin() + 1);
    const at::Tensor ids = at::tensor(input, at::kLong);  // [length + 1]
    // Position p predicts input[p + 1]; the last position predicts nothing in this window.
    const at::Tensor hidden = model.final_hidden_states(ids.narrow(0, 0, length).unsqueeze(0));  // [1, length, hidden]
    nll_sum += window_nll_sum(model, hidden, ids.narrow(0, 1, length));
    if (progress) progress(window + 1, windows);
  }

  PerplexityResult result;
  result.tokens = count;
  result.windows = windows;
  result.nll_mean = nll_sum / static_cast<double>(count);
  result.perplexity = std::exp(result.nll_mean);
  return result;
}

}  // namespace dcomp::model
