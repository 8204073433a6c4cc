// The two published tiny Llamas against the reference facts of
// ../shared/data/README.md (measured there by an independent implementation):
// greedy generation from BOS, and stories260K's mean NLL on a text sample.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "kernels/model/causal_lm.hpp"
#include "kernels/model/generation.hpp"
#include "kernels/model/perplexity.hpp"
#include "kernels/tokenizer/tokenizer.hpp"
#include "tests/support/shared_data.hpp"

namespace dcomp::model {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

struct Generated {
  std::string text;
  double seconds;
  size_t new_tokens;
};

Generated generate_from_bos(const std::filesystem::path& model_dir, int64_t new_tokens) {
  const CausalLM model = CausalLM::load(model_dir);
  const tok::Tokenizer tokenizer = tok::Tokenizer::from_dir(model_dir);
  const auto started = std::chrono::steady_clock::now();
  const std::vector<int32_t> tokens =
      generate_greedy(model, {static_cast<int32_t>(*model.config().bos_token_id)}, new_tokens, model.config().eos_token_ids);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return {tokenizer.decode(tokens, /*skip_special_tokens=*/true), seconds, tokens.size() - 1};
}

TEST(ReferenceModels, TinyStories656kGreedyFromBos) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const std::string expected =
      "Once upon a time, there was a little girl named Lily. She had a toy car that she loved very much. One day, she "
      "went to the park to play with her toy car in the park.";
  const Generated generated = generate_from_bos(data / "tinystories-656k", 80);
  std::cout << "[ generate ] tinystories-656k, " << generated.new_tokens << " tokens in " << generated.seconds
            << " s: " << generated.text << "\n";
  EXPECT_EQ(generated.new_tokens, 80u);
  EXPECT_EQ(generated.text.substr(0, expected.size()), expected);
}

TEST(ReferenceModels, Stories260kGreedyFromBos) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  // Karpathy's published sample; it was printed with the leading space of the first piece.
  const std::string expected =
      " Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw "
      "a big, red ball. She wanted to play with it, but it was too high";
  const Generated generated = generate_from_bos(data / "stories260k", 80);
  std::cout << "[ generate ] stories260k, " << generated.new_tokens << " tokens in " << generated.seconds
            << " s: " << generated.text << "\n";
  // Compare without the leading space, whose display differs between decoders.
  const auto strip = [](const std::string& text) { return text.substr(text.find_first_not_of(' ')); };
  const std::string expected_text = strip(expected);
  EXPECT_EQ(strip(generated.text).substr(0, expected_text.size()), expected_text);
}

TEST(ReferenceModels, Stories260kMeanNllOnTinyStoriesSample) {
  DCOMP_SHARED_DATA_OR_SKIP(data);
  const CausalLM model = CausalLM::load(data / "stories260k");
  const tok::Tokenizer tokenizer = tok::Tokenizer::from_dir(data / "stories260k");
  std::vector<int32_t> tokens = tokenizer.encode(read_text(data / "text" / "tinystories_sample.txt"));
  ASSERT_GE(tokens.size(), 255u);
  tokens.resize(255);  // BOS + 255 tokens: the first 255 predictions
  const PerplexityResult result =
      evaluate_perplexity(model, tokens, static_cast<int32_t>(*model.config().bos_token_id), /*window_length=*/256);
  std::cout << "[ nll      ] stories260k, first 255 predictions: nll " << result.nll_mean << " nats, perplexity "
            << result.perplexity << "\n";
  EXPECT_EQ(result.tokens, 255);
  EXPECT_EQ(result.windows, 1);
  EXPECT_NEAR(result.nll_mean, 1.2876, 0.0005);
  EXPECT_NEAR(result.perplexity, 3.62, 0.005);
}

}  // namespace
}  // namespace dcomp::model
