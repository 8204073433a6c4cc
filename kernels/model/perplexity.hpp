// Perplexity of a causal language model over a token stream.
//
// Definition: the text tokens t0 .. t(N-1) are cut into consecutive, disjoint
// windows of L-1 tokens (the last one may be shorter); each window is fed as
// BOS followed by its tokens (L tokens at most, positions 0 .. L-1), and every
// position after BOS is scored: BOS→t0, t0→t1, ... . Every text token is thus
// predicted exactly once, from the tokens before it in its window. (Attention is
// causal, so the window's last token, a target only, need not be fed.)
//   nll_mean = (1/N) Σ -log p(t_i | BOS, window tokens before t_i)   (nats)
//   perplexity = exp(nll_mean)
//
// reference: Jelinek et al. (1977) (perplexity as exp of the mean NLL); the
// non-overlapping-window evaluation of transformers' docs "Perplexity of
// fixed-length models" (stride = window), with a BOS at each window start as
// llama.cpp's perplexity tool adds.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "kernels/model/causal_lm.hpp"

namespace dcomp::model {

struct PerplexityResult {
  double nll_mean = 0;    // mean negative log-likelihood per scored token (nats)
  double perplexity = 0;  // exp(nll_mean)
  int64_t tokens = 0;     // scored predictions (= number of text tokens)
  int64_t windows = 0;    // forward passes
};

/// Called after each window with (windows done, windows in total).
using PerplexityProgress = std::function<void(int64_t done, int64_t total)>;

/// Evaluates `text_tokens` (without BOS; at least one) in windows of
/// `window_length` >= 2 tokens, BOS included, as defined above.
PerplexityResult evaluate_perplexity(const CausalLM& model, const std::vector<int32_t>& text_tokens, int32_t bos_id,
                                     int64_t window_length, const PerplexityProgress& progress = {});

}  // namespace dcomp::model
