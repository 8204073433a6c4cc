// Writer → reader round trips for every storage format: CompressedWeights built by hand
// from random codes and scales are written, read back dequantized, and compared with
// (q - zp) * scale computed element by element here.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <functional>

#include "kernels/ct/checkpoint_writer.hpp"
#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/ct/linear_encoding.hpp"
#include "kernels/ct/quantization_config.hpp"
#include "kernels/io/safetensors.hpp"
#include "tests/ct/ct_test_support.hpp"

namespace dcomp::ct {
namespace {

using testing::ScratchDir;

quant::QuantizationArgs int_args(int bits, std::optional<int> group_size, bool symmetric,
                                 quant::Strategy strategy = quant::Strategy::Group) {
  quant::QuantizationArgs args;
  args.num_bits = bits;
  args.symmetric = symmetric;
  args.group_size = group_size;
  args.strategy = strategy;
  return args;
}

quant::QuantizationArgs fp8_args(quant::Strategy strategy) {
  quant::QuantizationArgs args;
  args.type = quant::QuantType::Float;
  args.strategy = strategy;
  return args;
}

at::Tensor random_codes(int bits, int64_t out, int64_t in) {
  return at::randint(-(1 << (bits - 1)), 1 << (bits - 1), {out, in}, at::kChar);
}

// Random E4M3 bytes, the NaN patterns excluded.
at::Tensor random_fp8_codes(int64_t out, int64_t in) {
  at::Tensor bytes = at::randint(0, 256, {out, in}, at::kInt);
  bytes.masked_fill_(bytes.bitwise_and(0x7F).eq(0x7F), 0x3A);
  return bytes.to(at::kByte);
}

at::Tensor random_scale(std::vector<int64_t> shape) { return at::rand(shape) * 0.05 + 0.001; }

// W[r, c] = (q(r, c) - zp(r, c)) * s(r, c), element by element.
at::Tensor plain_dequantize(int64_t out, int64_t in, const std::function<float(int64_t, int64_t)>& q,
                            const std::function<float(int64_t, int64_t)>& zp,
                            const std::function<float(int64_t, int64_t)>& s) {
  at::Tensor weight = at::empty({out, in}, at::kFloat);
  auto view = weight.accessor<float, 2>();
  for (int64_t r = 0; r < out; ++r) {
    for (int64_t c = 0; c < in; ++c) view[r][c] = (q(r, c) - zp(r, c)) * s(r, c);
  }
  return weight;
}

std::function<float(int64_t, int64_t)> int_codes_at(const at::Tensor& codes) {
  const at::Tensor copy = codes.to(at::kFloat);
  return [copy](int64_t r, int64_t c) { return copy[r][c].item<float>(); };
}

std::function<float(int64_t, int64_t)> zero() {
  return [](int64_t, int64_t) { return 0.0f; };
}

class RoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    at::manual_seed(1234);
    source_ = testing::make_source_model(scratch_.path(), "float32");
    output_ = scratch_.path() / "out";
  }

  // Writes one compressed Linear "model.layers.0.mlp.down_proj" plus a norm, with the
  // scheme's config group, and reads the Linear back.
  model::LinearWeights write_and_read(const quant::CompressedWeight& weight, const quant::QuantizationScheme& scheme,
                                      const at::Tensor& bias = {}, CheckpointWriterOptions options = {}) {
    {
      CheckpointWriter writer(output_, source_, options);
      writer.add_tensor("model.norm.weight", at::ones({8}));
      writer.add_compressed_linear(module_, weight, bias);
      writer.finish(build_quantization_config({{"group_0", scheme}}, {"lm_head"}));
    }
    const CompressedCheckpoint checkpoint(output_);
    EXPECT_TRUE(checkpoint.has_quantization_config());
    return checkpoint.load_linear(module_);
  }

  io::TensorInfo info(const std::string& suffix) const {
    return io::CheckpointReader(output_).info(module_ + "." + suffix);
  }
  bool stored(const std::string& suffix) const { return io::CheckpointReader(output_).contains(module_ + "." + suffix); }
  nlohmann::json read_json_config() const { return testing::read_json(output_ / "config.json"); }

  ScratchDir scratch_;
  std::filesystem::path source_;
  std::filesystem::path output_;
  const std::string module_ = "model.layers.0.mlp.down_proj";
};

quant::QuantizationScheme weight_only(const quant::QuantizationArgs& args) {
  quant::QuantizationScheme scheme;
  scheme.targets = {"Linear"};
  scheme.weights = args;
  return scheme;
}

TEST_F(RoundTrip, PackQuantizedSymmetricGroup) {
  quant::CompressedWeight weight;
  weight.weight_args = int_args(4, 16, true);
  weight.codes = random_codes(4, 24, 64);
  weight.scale = random_scale({24, 4});
  const at::Tensor bias = at::randn({24});
  const auto read = write_and_read(weight, weight_only(*weight.weight_args), bias);

  const at::Tensor scale = weight.scale;
  const at::Tensor expected = plain_dequantize(24, 64, int_codes_at(weight.codes), zero(), [&](int64_t r, int64_t c) {
    return scale[r][c / 16].item<float>();
  });
  EXPECT_TRUE(read.weight.equal(expected));
  EXPECT_TRUE(read.bias.equal(bias));
  EXPECT_EQ(info("weight_packed").dtype, io::DType::I32);
  EXPECT_EQ(info("weight_packed").shape, (std::vector<int64_t>{24, 8}));
  EXPECT_EQ(info("weight_shape").dtype, io::DType::I64);
  EXPECT_EQ(info("weight_shape").shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(info("weight_scale").dtype, io::DType::F32);
  EXPECT_EQ(info("weight_scale").shape, (std::vector<int64_t>{24, 4}));
  EXPECT_FALSE(stored("weight_zero_point"));
  EXPECT_FALSE(stored("weight_g_idx"));
  EXPECT_FALSE(stored("weight"));
}

TEST_F(RoundTrip, PackQuantizedAsymmetricGroupPacksZeroPointsAlongRows) {
  quant::CompressedWeight weight;
  weight.weight_args = int_args(4, 16, false);
  weight.codes = random_codes(4, 24, 64);
  weight.scale = random_scale({24, 4});
  weight.zero_point = at::randint(-8, 8, {24, 4}, at::kInt);
  const auto read = write_and_read(weight, weight_only(*weight.weight_args));
  const at::Tensor scale = weight.scale, zp = weight.zero_point;
  const at::Tensor expected = plain_dequantize(
      24, 64, int_codes_at(weight.codes), [&](int64_t r, int64_t c) { return zp[r][c / 16].item<float>(); },
      [&](int64_t r, int64_t c) { return scale[r][c / 16].item<float>(); });
  EXPECT_TRUE(read.weight.equal(expected));
  EXPECT_EQ(info("weight_zero_point").dtype, io::DType::I32);
  EXPECT_EQ(info("weight_zero_point").shape, (std::vector<int64_t>{3, 4}));  // ceil(24*4/32) rows
}

TEST_F(RoundTrip, PackQuantizedThreeBitChannelWithOddShapes) {
  quant::CompressedWeight weight;
  weight.weight_args = int_args(3, std::nullopt, false, quant::Strategy::Channel);
  weight.codes = random_codes(3, 13, 37);
  weight.scale = random_scale({13, 1});
  weight.zero_point = at::randint(-4, 4, {13, 1}, at::kInt);
  const auto read = write_and_read(weight, weight_only(*weight.weight_args));
  const at::Tensor scale = weight.scale, zp = weight.zero_point;
  const at::Tensor expected = plain_dequantize(
      13, 37, int_codes_at(weight.codes), [&](int64_t r, int64_t) { return zp[r][0].item<float>(); },
      [&](int64_t r, int64_t) { return scale[r][0].item<float>(); });
  EXPECT_TRUE(read.weight.equal(expected));
  EXPECT_EQ(info("weight_packed").shape, (std::vector<int64_t>{13, 4}));     // ceil(37*3/32)
  EXPECT_EQ(info("weight_zero_point").shape, (std::vector<int64_t>{2, 1}));  // ceil(13*3/32)
}

TEST_F(RoundTrip, PackQuantizedGroupActorderStoresGIdx) {
  quant::CompressedWeight weight;
  weight.weight_args = int_args(4, 8, true);
  weight.weight_args->actorder = quant::ActOrder::Group;
  weight.codes = random_codes(4, 16, 32);
  weight.scale = random_scale({16, 4});
  const at::Tensor permutation = at::randperm(32, at::kLong);
  weight.g_idx = permutation.div(8, "floor").to(at::kInt);  // column c belongs to group perm[c] / 8
  const auto read = write_and_read(weight, weight_only(*weight.weight_args));
  const at::Tensor scale = weight.scale, g_idx = weight.g_idx;
  const at::Tensor expected = plain_dequantize(16, 32, int_codes_at(weight.codes), zero(), [&](int64_t r, int64_t c) {
    return scale[r][g_idx[c].item<int64_t>()].item<float>();
  });
  EXPECT_TRUE(read.weight.equal(expected));
  EXPECT_EQ(info("weight_g_idx").dtype, io::DType::I32);
  EXPECT_EQ(info("weight_g_idx").shape, (std::vector<int64_t>{32}));
}

TEST_F(RoundTrip, IntQuantizedW8A8WithDynamicInputs) {
  const auto scheme = quant::preset_scheme("W8A8", {"Linear"});
  quant::CompressedWeight weight;
  weight.weight_args = scheme.weights;
  weight.input_args = scheme.input_activations;
  weight.codes = random_codes(8, 20, 48);
  weight.scale = random_scale({20, 1});
  const auto read = write_and_read(weight, scheme);
  const at::Tensor scale = weight.scale;
  const at::Tensor expected = plain_dequantize(20, 48, int_codes_at(weight.codes), zero(),
                                               [&](int64_t r, int64_t) { return scale[r][0].item<float>(); });
  EXPECT_TRUE(read.weight.equal(expected));
  EXPECT_EQ(info("weight").dtype, io::DType::I8);
  EXPECT_EQ(info("weight").shape, (std::vector<int64_t>{20, 48}));
  EXPECT_EQ(info("weight_scale").shape, (std::vector<int64_t>{20, 1}));
  EXPECT_FALSE(stored("input_scale"));
  EXPECT_EQ(read_json_config().at("quantization_config").at("format"), "int-quantized");
}

TEST_F(RoundTrip, IntQuantizedStaticAsymmetricInputsAndWeights) {
  quant::QuantizationScheme scheme;
  scheme.targets = {"Linear"};
  scheme.weights = int_args(8, std::nullopt, false, quant::Strategy::Channel);
  quant::QuantizationArgs inputs;
  inputs.symmetric = false;
  inputs.strategy = quant::Strategy::Tensor;
  scheme.input_activations = inputs;
  quant::CompressedWeight weight;
  weight.weight_args = scheme.weights;
  weight.input_args = scheme.input_activations;
  weight.codes = random_codes(8, 12, 16);
  weight.scale = random_scale({12, 1});
  weight.zero_point = at::randint(-128, 128, {12, 1}, at::kInt);
  weight.input_scale = at::full({1}, 0.02f);
  weight.input_zero_point = at::full({1}, -3, at::kInt);
  const auto read = write_and_read(weight, scheme);
  const at::Tensor scale = weight.scale, zp = weight.zero_point;
  const at::Tensor expected = plain_dequantize(
      12, 16, int_codes_at(weight.codes), [&](int64_t r, int64_t) { return zp[r][0].item<float>(); },
      [&](int64_t r, int64_t) { return scale[r][0].item<float>(); });
  EXPECT_TRUE(read.weight.equal(expected));
  EXPECT_EQ(info("weight_zero_point").dtype, io::DType::I8);
  EXPECT_EQ(info("input_scale").shape, (std::vector<int64_t>{1}));
  EXPECT_EQ(info("input_zero_point").dtype, io::DType::I8);
  const auto input_zero_point = io::CheckpointReader(output_).load(module_ + ".input_zero_point");
  EXPECT_EQ(input_zero_point[0].item<int>(), -3);
}

TEST_F(RoundTrip, FloatQuantizedFp8WithStaticInputScale) {
  const auto scheme = quant::preset_scheme("FP8", {"Linear"});
  quant::CompressedWeight weight;
  weight.weight_args = scheme.weights;
  weight.input_args = scheme.input_activations;
  weight.codes = random_fp8_codes(10, 24);
  weight.scale = at::full({1}, 0.0125f);
  weight.input_scale = at::full({1}, 0.5f);
  const auto read = write_and_read(weight, scheme);
  const at::Tensor codes = weight.codes;
  const at::Tensor expected = plain_dequantize(
      10, 24, [&](int64_t r, int64_t c) { return testing::e4m3_value(codes[r][c].item<uint8_t>()); }, zero(),
      [](int64_t, int64_t) { return 0.0125f; });
  EXPECT_TRUE(read.weight.equal(expected));
  EXPECT_EQ(info("weight").dtype, io::DType::F8_E4M3);
  EXPECT_EQ(info("weight_scale").shape, (std::vector<int64_t>{1}));
  EXPECT_EQ(info("input_scale").dtype, io::DType::F32);
  EXPECT_EQ(read_json_config().at("quantization_config").at("format"), "float-quantized");
}

TEST_F(RoundTrip, NaiveQuantizedFp8BlockWeightsOnly) {
  quant::QuantizationArgs args = fp8_args(quant::Strategy::Block);
  args.block_structure = std::vector<int>{8, 16};
  quant::CompressedWeight weight;
  weight.weight_args = args;
  weight.codes = random_fp8_codes(20, 40);
  weight.scale = random_scale({3, 3});  // ceil(20/8) x ceil(40/16)
  const auto read = write_and_read(weight, weight_only(args));
  const at::Tensor codes = weight.codes, scale = weight.scale;
  const at::Tensor expected = plain_dequantize(
      20, 40, [&](int64_t r, int64_t c) { return testing::e4m3_value(codes[r][c].item<uint8_t>()); }, zero(),
      [&](int64_t r, int64_t c) { return scale[r / 8][c / 16].item<float>(); });
  EXPECT_TRUE(read.weight.equal(expected));
  EXPECT_EQ(read_json_config().at("quantization_config").at("format"), "naive-quantized");
}

TEST_F(RoundTrip, PrunedOnlyWeightIsStoredDenseWithSparsityMetadata) {
  at::Tensor dense = at::randn({8, 16});
  dense.reshape({-1, 4}).narrow(1, 0, 2).zero_();  // 2:4 pattern
  quant::CompressedWeight weight;
  weight.effective_weight = dense;
  weight.sparsity_structure = "2:4";
  {
    CheckpointWriter writer(output_, source_);
    writer.add_compressed_linear(module_, weight);
    writer.finish(nullptr, build_sparsity_config("2:4", 0.5, {"Linear"}, {"lm_head"}));
  }
  EXPECT_EQ(info("weight").dtype, io::DType::F32);
  const auto config = read_json_config().at("quantization_config");
  EXPECT_EQ(config.at("sparsity_config").at("format"), "dense");
  EXPECT_EQ(config.at("sparsity_config").at("sparsity_structure"), "2:4");
  EXPECT_EQ(config.at("config_groups"), nlohmann::json::object());
  EXPECT_TRUE(CompressedCheckpoint(output_).load_linear(module_).weight.equal(dense));
}

TEST_F(RoundTrip, LegacySparse24BitmaskOnRequest) {
  at::Tensor dense = at::randn({8, 16});
  dense.reshape({-1, 4}).narrow(1, 1, 2).zero_();
  quant::CompressedWeight weight;
  weight.effective_weight = dense;
  weight.sparsity_structure = "2:4";
  CheckpointWriterOptions options;
  options.legacy_sparse_24_bitmask = true;
  {
    CheckpointWriter writer(output_, source_, options);
    writer.add_compressed_linear(module_, weight);
    writer.finish(nullptr, build_sparsity_config("2:4", 0.5, {"Linear"}, {}, "sparse-24-bitmask"));
  }
  EXPECT_FALSE(stored("weight"));
  EXPECT_EQ(info("compressed").shape, (std::vector<int64_t>{8, 8}));
  EXPECT_EQ(info("bitmask").dtype, io::DType::U8);
  EXPECT_EQ(info("shape").shape, (std::vector<int64_t>{2, 1}));
  EXPECT_TRUE(CompressedCheckpoint(output_).load_linear(module_).weight.equal(dense));
}

TEST_F(RoundTrip, Bf16ModelStoresBf16ScalesAndDequantizesExactly) {
  source_ = testing::make_source_model(scratch_.path() / "bf16", "bfloat16");
  quant::CompressedWeight weight;
  weight.weight_args = int_args(4, 32, false);
  weight.codes = random_codes(4, 6, 64);
  weight.scale = random_scale({6, 2});
  weight.zero_point = at::randint(-8, 8, {6, 2}, at::kInt);
  const auto read = write_and_read(weight, weight_only(*weight.weight_args), at::randn({6}));
  EXPECT_EQ(info("weight_scale").dtype, io::DType::BF16);
  EXPECT_EQ(info("bias").dtype, io::DType::BF16);
  EXPECT_EQ(read_json_config().at("torch_dtype"), "bfloat16");
  // Reference: (q - zp) times the bf16-rounded scale, a product fp32 holds exactly.
  const at::Tensor scale = weight.scale, zp = weight.zero_point;
  const at::Tensor expected = plain_dequantize(
      6, 64, int_codes_at(weight.codes), [&](int64_t r, int64_t c) { return zp[r][c / 32].item<float>(); },
      [&](int64_t r, int64_t c) { return static_cast<float>(c10::BFloat16(scale[r][c / 32].item<float>())); });
  EXPECT_TRUE(read.weight.equal(expected));
}

TEST_F(RoundTrip, RejectsInconsistentCompressedWeights) {
  CheckpointWriter writer(output_, source_);
  quant::CompressedWeight weight;
  weight.weight_args = int_args(4, 16, true);
  weight.codes = random_codes(4, 8, 32);
  weight.scale = random_scale({8, 3});  // needs [8, 2]
  EXPECT_THROW(writer.add_compressed_linear(module_, weight), EncodingError);
  weight.scale = random_scale({8, 2});
  weight.codes[0][0] = 9;  // outside int4
  EXPECT_THROW(writer.add_compressed_linear(module_, weight), EncodingError);
  weight.codes[0][0] = 1;
  weight.zero_point = at::ones({8, 2}, at::kInt);  // symmetric with a zero point
  EXPECT_THROW(writer.add_compressed_linear(module_, weight), EncodingError);
  weight.zero_point = at::Tensor();
  EXPECT_THROW(writer.add_compressed_linear(module_, weight, {}, std::string("float-quantized")), EncodingError);
  EXPECT_NO_THROW(writer.add_compressed_linear(module_, weight));
  EXPECT_THROW(writer.add_compressed_linear(module_, weight), CheckpointWriteError);  // added twice
}

TEST_F(RoundTrip, ReaderRejectsCheckpointsThatContradictTheirConfig) {
  quant::CompressedWeight weight;
  weight.weight_args = int_args(4, 16, true);
  weight.codes = random_codes(4, 8, 32);
  weight.scale = random_scale({8, 2});
  write_and_read(weight, weight_only(*weight.weight_args));
  const auto rewrite_weights = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json config = read_json_config();
    edit(config["quantization_config"]["config_groups"]["group_0"]);
    testing::write_file(output_ / "config.json", config.dump(2));
  };
  const auto error_of = [&] {
    try {
      CompressedCheckpoint(output_).load_linear(module_);
    } catch (const std::exception& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  rewrite_weights([](nlohmann::json& group) { group["weights"]["num_bits"] = 8; });  // 32 columns need 8 words
  EXPECT_NE(error_of().find("weight_packed"), std::string::npos) << error_of();
  rewrite_weights([](nlohmann::json& group) {
    group["weights"]["num_bits"] = 4;
    group["weights"]["group_size"] = 8;  // 4 groups, the scale has 2
  });
  EXPECT_NE(error_of().find("scale has shape [8, 2]"), std::string::npos) << error_of();
  rewrite_weights([](nlohmann::json& group) {
    group["weights"]["group_size"] = 16;
    group["format"] = "nvfp4-pack-quantized";
  });
  EXPECT_NE(error_of().find("the format holds FP4 weights"), std::string::npos) << error_of();
  rewrite_weights([](nlohmann::json& group) { group["format"] = "marlin-24"; });
  EXPECT_NE(error_of().find("not supported"), std::string::npos) << error_of();
  rewrite_weights([](nlohmann::json& group) {
    group["format"] = "pack-quantized";
    group["targets"] = nlohmann::json::array({"re:.*self_attn.*"});  // the Linear is no longer quantized
  });
  EXPECT_NE(error_of().find("no config group quantizes"), std::string::npos) << error_of();
}

}  // namespace
}  // namespace dcomp::ct
