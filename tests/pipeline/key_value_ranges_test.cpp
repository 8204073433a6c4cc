// The per-sample key and value ranges gathered for KV-cache scales, against a brute-force
// attention front end: per token, rms_norm in fp64, k/v = W·x written out as sums, the Qwen3
// k_norm, and RoPE as the rotation of the pairs (x[i], x[i + D/2]) by position · θ^(−2i/D).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "kernels/model/decoder_layer.hpp"
#include "kernels/model/rotary_embedding.hpp"
#include "model/random_layer.hpp"
#include "pipeline/key_value_ranges.hpp"
#include "pipeline/threaded_ranks.hpp"

namespace dcomp::pipeline {
namespace {

using Vector = std::vector<double>;

Vector as_vector(const at::Tensor& t) {
  const at::Tensor values = t.to(at::kDouble).contiguous();
  return Vector(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
}

Vector rms_norm(const Vector& x, const at::Tensor& weight, double eps) {
  double squares = 0;
  for (double v : x) squares += v * v;
  const double scale = 1.0 / std::sqrt(squares / static_cast<double>(x.size()) + eps);
  const Vector g = as_vector(weight);
  Vector y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * scale * g[i];
  return y;
}

// W x: W [out, in], x [in].
Vector matrix_times(const at::Tensor& weight, const Vector& x) {
  const Vector w = as_vector(weight);
  const size_t in = x.size(), out = w.size() / in;
  Vector y(out, 0.0);
  for (size_t o = 0; o < out; ++o) {
    for (size_t i = 0; i < in; ++i) y[o] += w[o * in + i] * x[i];
  }
  return y;
}

void rotate(Vector& head, int64_t position, double theta) {
  const size_t half = head.size() / 2;
  for (size_t i = 0; i < half; ++i) {
    const double angle = static_cast<double>(position) *
                         std::pow(theta, -2.0 * static_cast<double>(i) / static_cast<double>(head.size()));
    const double a = head[i], b = head[i + half];
    head[i] = a * std::cos(angle) - b * std::sin(angle);
    head[i + half] = b * std::cos(angle) + a * std::sin(angle);
  }
}

/// Per sample of hidden [batch, seq, hidden]: min and max over every key (after k_norm and
/// RoPE) and every value of every KV head and position.
lifecycle::KeyValueRanges brute_force_ranges(const model::ModelConfig& config, const model::DecoderLayerWeights& w,
                                            const at::Tensor& hidden) {
  lifecycle::KeyValueRanges ranges;
  const int64_t dim = config.head_dim;
  for (int64_t b = 0; b < hidden.size(0); ++b) {
    double key_lo = std::numeric_limits<double>::infinity(), key_hi = -key_lo, value_lo = key_lo, value_hi = -key_lo;
    for (int64_t s = 0; s < hidden.size(1); ++s) {
      const Vector x = rms_norm(as_vector(hidden[b][s]), w.parameter("input_layernorm.weight"), config.rms_norm_eps);
      const Vector keys = matrix_times(w.k_proj.weight, x), values = matrix_times(w.v_proj.weight, x);
      for (int64_t h = 0; h < config.num_key_value_heads; ++h) {
        Vector head(keys.begin() + h * dim, keys.begin() + (h + 1) * dim);
        if (config.qk_norm) head = rms_norm(head, w.parameter("self_attn.k_norm.weight"), config.rms_norm_eps);
        rotate(head, s, config.rope_theta);
        key_lo = std::min(key_lo, *std::min_element(head.begin(), head.end()));
        key_hi = std::max(key_hi, *std::max_element(head.begin(), head.end()));
      }
      value_lo = std::min(value_lo, *std::min_element(values.begin(), values.end()));
      value_hi = std::max(value_hi, *std::max_element(values.begin(), values.end()));
    }
    ranges.key_min.push_back(static_cast<float>(key_lo));
    ranges.key_max.push_back(static_cast<float>(key_hi));
    ranges.value_min.push_back(static_cast<float>(value_lo));
    ranges.value_max.push_back(static_cast<float>(value_hi));
  }
  return ranges;
}

void append(lifecycle::KeyValueRanges& to, const lifecycle::KeyValueRanges& from) {
  to.key_min.insert(to.key_min.end(), from.key_min.begin(), from.key_min.end());
  to.key_max.insert(to.key_max.end(), from.key_max.begin(), from.key_max.end());
  to.value_min.insert(to.value_min.end(), from.value_min.begin(), from.value_min.end());
  to.value_max.insert(to.value_max.end(), from.value_max.begin(), from.value_max.end());
}

void expect_near(const std::vector<float>& actual, const std::vector<float>& expected, const char* what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-5) << what << " of sample " << i;
}

void expect_ranges_near(const lifecycle::KeyValueRanges& actual, const lifecycle::KeyValueRanges& expected) {
  expect_near(actual.key_min, expected.key_min, "key minimum");
  expect_near(actual.key_max, expected.key_max, "key maximum");
  expect_near(actual.value_min, expected.value_min, "value minimum");
  expect_near(actual.value_max, expected.value_max, "value maximum");
}

/// A tiny layer of `architecture` (hidden 16, 2 KV heads of 4, or of 6 with Qwen3's q/k norms)
/// and two calibration batches [2, 5, 16] and [3, 4, 16] fp32: five samples.
struct KeyValueCalibration {
  model::ModelConfig config;
  model::DecoderLayerWeights weights;
  model::RotaryEmbedding rope;
  std::vector<at::Tensor> batches;

  explicit KeyValueCalibration(const std::string& architecture)
      : config(model::testing::tiny_config(architecture)), rope(config) {
    at::manual_seed(3);
    weights = model::testing::random_layer(config);
    batches = {at::randn({2, 5, 16}), at::randn({3, 4, 16})};
  }

  void observe(KeyValueRangeCollector& collector, const at::Tensor& batch) const {
    const model::LinearInputHook ignore = [](const std::vector<std::string>&, const at::Tensor&) {};
    model::decoder_layer_observe_inputs(config, weights, batch, rope, ignore, &collector.hook());
  }

  lifecycle::KeyValueRanges expected(size_t first, size_t count) const {
    lifecycle::KeyValueRanges all;
    for (size_t b = first; b < first + count; ++b) append(all, brute_force_ranges(config, weights, batches[b]));
    return all;
  }
};

TEST(KeyValueRanges, EachSampleGetsTheRangeOfItsRotatedKeysAndItsValues) {
  for (const std::string architecture : {"LlamaForCausalLM", "Qwen3ForCausalLM"}) {
    SCOPED_TRACE(architecture);
    const KeyValueCalibration run(architecture);
    KeyValueRangeCollector collector;
    for (const at::Tensor& batch : run.batches) run.observe(collector, batch);
    lifecycle::LayerWork work;
    collector.fill(work);
    expect_ranges_near(work.key_value_ranges, run.expected(0, 2));
    EXPECT_EQ(work.key_value_ranges.key_min.size(), 5u);
  }
}

TEST(KeyValueRanges, OneRankGathersNothingAndKeepsItsList) {
  const KeyValueCalibration run("LlamaForCausalLM");
  KeyValueRangeCollector collector;
  run.observe(collector, run.batches[0]);
  auto single = comm::make_single_communicator();
  EXPECT_EQ(collector.all_gather(*single), 0);
  lifecycle::LayerWork work;
  collector.fill(work);
  expect_ranges_near(work.key_value_ranges, run.expected(0, 1));
}

TEST(KeyValueRanges, RanksEndWithEverySampleInRankOrder) {
  // Rank 0 holds the first batch (samples 0-1), rank 1 the second (samples 2-4).
  const KeyValueCalibration run("LlamaForCausalLM");
  std::vector<lifecycle::LayerWork> works(2);
  std::vector<int64_t> sent(2);
  testing::run_ranks(2, [&](comm::Communicator& comm) {
    KeyValueRangeCollector collector;
    run.observe(collector, run.batches[static_cast<size_t>(comm.rank())]);
    sent[static_cast<size_t>(comm.rank())] = collector.all_gather(comm);
    collector.fill(works[static_cast<size_t>(comm.rank())]);
  });
  for (const lifecycle::LayerWork& work : works) expect_ranges_near(work.key_value_ranges, run.expected(0, 2));
  EXPECT_EQ(sent[0], 2 * 4 * 4);  // four fp32 per sample
  EXPECT_EQ(sent[1], 3 * 4 * 4);
}

/// Rank 0 of two, whose partner sends `partner_bytes`.
class PartnerSending final : public comm::Communicator {
 public:
  explicit PartnerSending(std::string partner_bytes) : partner_bytes_(std::move(partner_bytes)) {}
  int rank() const override { return 0; }
  int world_size() const override { return 2; }
  std::string backend_name() const override { return "partner"; }
  void all_reduce(at::Tensor&, comm::ReduceOp) override {}
  void reduce(at::Tensor&, comm::ReduceOp, int) override {}
  void broadcast(at::Tensor&, int) override {}
  void broadcast_bytes(std::string&, int) override {}
  std::vector<std::string> all_gather_bytes(const std::string& bytes) override { return {bytes, partner_bytes_}; }
  void barrier() override {}
  [[noreturn]] void abort_job(int) override { std::abort(); }

 private:
  std::string partner_bytes_;
};

TEST(KeyValueRanges, ATornListFromAnotherRankIsRefused) {
  const KeyValueCalibration run("LlamaForCausalLM");
  KeyValueRangeCollector collector;
  run.observe(collector, run.batches[0]);
  PartnerSending torn(std::string(4 * sizeof(float) + 3, '\0'));  // one sample and 3 stray bytes
  try {
    collector.all_gather(torn);
    FAIL() << "a torn list was accepted";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("torn"), std::string::npos) << error.what();
  }
}

TEST(KeyValueRanges, APartnersSamplesFollowOursAsFourFloatsEach) {
  const KeyValueCalibration run("LlamaForCausalLM");
  KeyValueRangeCollector collector;
  run.observe(collector, run.batches[0]);
  const float partner[4] = {-1.5f, 2.5f, -0.25f, 0.75f};  // key min, key max, value min, value max
  PartnerSending sending(std::string(reinterpret_cast<const char*>(partner), sizeof partner));
  collector.all_gather(sending);
  lifecycle::LayerWork work;
  collector.fill(work);
  lifecycle::KeyValueRanges expected = run.expected(0, 1);
  append(expected, {{-1.5f}, {2.5f}, {-0.25f}, {0.75f}});
  expect_ranges_near(work.key_value_ranges, expected);
}

}  // namespace
}  // namespace dcomp::pipeline
