// evaluate_perplexity against a brute-force evaluation of its definition: every
// text token t_i is scored by its own forward pass over BOS and the tokens of its
// window before it (window w holds tokens [w*(L-1), (w+1)*(L-1))).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <iostream>

#include "kernels/model/causal_lm.hpp"
#include "kernels/model/perplexity.hpp"
#include "tests/model/tiny_checkpoint.hpp"

namespace dcomp::model {
namespace {

constexpr int32_t kBos = 1;

CausalLM random_model(const testing::TemporaryDirectory& dir, int64_t max_positions) {
  const ModelConfig config = testing::tiny_config("LlamaForCausalLM", {{"max_position_embeddings", max_positions}});
  testing::write_model_folder(dir.path(), config.raw, testing::random_state_dict(config, true));
  return CausalLM::load(dir.path());
}

std::vector<int32_t> random_tokens(int64_t count, int64_t vocab) {
  const at::Tensor ids = at::randint(3, vocab, {count}, at::kInt);
  return std::vector<int32_t>(ids.data_ptr<int32_t>(), ids.data_ptr<int32_t>() + count);
}

// -log p(t_i | BOS, window tokens before t_i), one forward pass per token.
double brute_force_nll_mean(const CausalLM& model, const std::vector<int32_t>& tokens, int64_t window_length) {
  double total = 0;
  const int64_t stride = window_length - 1;
  for (int64_t i = 0; i < static_cast<int64_t>(tokens.size()); ++i) {
    const int64_t window_start = (i / stride) * stride;
    std::vector<int64_t> context{kBos};
    for (int64_t j = window_start; j < i; ++j) context.push_back(tokens[static_cast<size_t>(j)]);
    const at::Tensor logits = model.forward(at::tensor(context, at::kLong).unsqueeze(0));  // [1, n, V]
    const at::Tensor last = logits[0][logits.size(1) - 1].to(at::kDouble);
    total += (at::logsumexp(last, 0) - last[tokens[static_cast<size_t>(i)]]).item<double>();
  }
  return total / static_cast<double>(tokens.size());
}

TEST(Perplexity, MatchesBruteForceWithPartialLastWindow) {
  at::manual_seed(31);
  testing::TemporaryDirectory dir("ppl");
  const CausalLM model = random_model(dir, 64);
  const std::vector<int32_t> tokens = random_tokens(23, model.config().vocab_size);
  for (int64_t window_length : {2, 8, 24, 64}) {
    const PerplexityResult result = evaluate_perplexity(model, tokens, kBos, window_length);
    const double expected = brute_force_nll_mean(model, tokens, window_length);
    std::cout << "[ ppl      ] L=" << window_length << ": nll " << result.nll_mean << " vs brute force " << expected
              << " (windows " << result.windows << ")\n";
    EXPECT_NEAR(result.nll_mean, expected, 1e-5) << "L=" << window_length;
    EXPECT_DOUBLE_EQ(result.perplexity, std::exp(result.nll_mean));
    EXPECT_EQ(result.tokens, 23);
    EXPECT_EQ(result.windows, (23 + window_length - 2) / (window_length - 1));  // ceil(23 / (L-1))
  }
}

TEST(Perplexity, LongWindowsSplitTheHeadIntoChunks) {
  // Windows longer than the LM-head chunk (512 positions) against full logits of each window.
  at::manual_seed(32);
  testing::TemporaryDirectory dir("ppl_long");
  const CausalLM model = random_model(dir, 1024);
  const std::vector<int32_t> tokens = random_tokens(900, model.config().vocab_size);
  const int64_t window_length = 700;
  double total = 0;
  for (int64_t start = 0; start < 900; start += window_length - 1) {
    const int64_t count = std::min<int64_t>(window_length - 1, 900 - start);
    std::vector<int64_t> window{kBos};
    window.insert(window.end(), tokens.begin() + start, tokens.begin() + start + count);
    const at::Tensor ids = at::tensor(window, at::kLong);
    const at::Tensor log_probs = at::log_softmax(model.forward(ids.unsqueeze(0))[0].to(at::kDouble), -1);  // [n+1, V]
    for (int64_t p = 0; p < count; ++p) total -= log_probs[p][ids[p + 1].item<int64_t>()].item<double>();
  }
  const PerplexityResult result = evaluate_perplexity(model, tokens, kBos, window_length);
  EXPECT_EQ(result.windows, 2);
  EXPECT_NEAR(result.nll_mean, total / 900.0, 1e-5);
}

TEST(Perplexity, RejectsBadArguments) {
  at::manual_seed(33);
  testing::TemporaryDirectory dir("ppl_bad");
  const CausalLM model = random_model(dir, 64);
  EXPECT_THROW(evaluate_perplexity(model, {5, 6}, kBos, 1), std::invalid_argument);
  EXPECT_THROW(evaluate_perplexity(model, {}, kBos, 8), std::invalid_argument);
  int64_t reported = 0;
  evaluate_perplexity(model, random_tokens(10, 50), kBos, 4, [&](int64_t done, int64_t total) {
    EXPECT_EQ(total, 4);
    reported = done;
  });
  EXPECT_EQ(reported, 4);
}

}  // namespace
}  // namespace dcomp::model
