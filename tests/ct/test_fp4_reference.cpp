// NVFP4 and MXFP4 against compressed-tensors 0.19 itself: tests/ct/fixtures/fp4/model.safetensors
// holds values rounded and packed by its cast_to_fp4 / pack_fp4_to_uint8, a weight compressed by
// its NVFP4PackedCompressor and MXFP4PackedCompressor (scales from calculate_qparams, the global
// scale from generate_gparam) and its dequantize of them (made by make_fp4_fixture.py).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "kernels/ct/linear_decoding.hpp"
#include "kernels/ct/linear_encoding.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/quant/fp4_e2m1.hpp"
#include "kernels/quant/fp8_e4m3.hpp"
#include "kernels/quant/observers.hpp"
#include "kernels/quant/qparams.hpp"
#include "kernels/quant/quant_grid.hpp"

namespace dcomp::ct {
namespace {

const std::filesystem::path kFixture = std::filesystem::path(DCOMP_SOURCE_DIR) / "tests/ct/fixtures/fp4";

const io::CheckpointReader& fixture() {
  static const io::CheckpointReader reader(kFixture);
  return reader;
}

at::Tensor tensor(const std::string& name) { return fixture().load(name).clone(); }

bool same_bytes(const at::Tensor& a, const at::Tensor& b) {
  return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() && at::equal(a.contiguous(), b.contiguous());
}

quant::QuantizationArgs preset_weights(const std::string& preset) {
  return *quant::preset_scheme(preset, {"Linear"}).weights;
}

TEST(Fp4Reference, RoundingAndPackingOfEveryTieMatchCastToFp4) {
  const at::Tensor input = tensor("values.input");  // [1, 64] fp32
  at::Tensor codes = at::empty(input.sizes(), at::kByte);
  for (int64_t i = 0; i < input.size(1); ++i) {
    const float clamped = std::clamp(input[0][i].item<float>(), -quant::kFp4E2m1Max, quant::kFp4E2m1Max);
    codes[0][i] = quant::fp4_e2m1_from_float(clamped);
  }
  const at::Tensor packed = quant::pack_fp4_codes(codes);
  EXPECT_TRUE(same_bytes(packed, tensor("values.packed")));
  EXPECT_TRUE(same_bytes(quant::unpack_fp4_codes(packed), codes));
}

TEST(Fp4Reference, Nvfp4ScalesGlobalScaleAndPackedCodesAreByteIdentical) {
  const at::Tensor weight = tensor("nvfp4.weight");  // [48, 64] fp32
  const quant::QuantizationArgs args = preset_weights("NVFP4A16");
  const at::Tensor global = quant::global_scale_for_absmax(weight.abs().max().item<float>());
  EXPECT_TRUE(same_bytes(global, tensor("nvfp4.weight_global_scale")));

  const quant::QParams qparams = quant::observe_weight(weight, args, {}, global);
  quant::CompressedWeight compressed;
  compressed.weight_args = args;
  compressed.codes = quant::quantize_codes(weight, qparams, args);
  compressed.scale = qparams.scale;
  compressed.global_scale = qparams.global_scale;
  std::map<std::string, io::NamedTensor> stored;
  for (auto& t : encode_compressed_linear("nvfp4", compressed, "nvfp4-pack-quantized", at::kFloat)) {
    stored.emplace(t.name, t);
  }
  ASSERT_EQ(stored.count("nvfp4.weight_scale"), 1u);
  EXPECT_EQ(stored.at("nvfp4.weight_scale").stored_dtype, io::DType::F8_E4M3);
  EXPECT_TRUE(same_bytes(stored.at("nvfp4.weight_scale").tensor, tensor("nvfp4.weight_scale")));
  EXPECT_TRUE(same_bytes(stored.at("nvfp4.weight_packed").tensor, tensor("nvfp4.weight_packed")));
  EXPECT_TRUE(same_bytes(stored.at("nvfp4.weight_global_scale").tensor, tensor("nvfp4.weight_global_scale")));
}

TEST(Fp4Reference, Mxfp4ExponentsAndPackedCodesAreByteIdentical) {
  const at::Tensor weight = tensor("mxfp4.weight");
  const quant::QuantizationArgs args = preset_weights("MXFP4A16");
  const quant::QParams qparams = quant::observe_weight(weight, args);
  quant::CompressedWeight compressed;
  compressed.weight_args = args;
  compressed.codes = quant::quantize_codes(weight, qparams, args);
  compressed.scale = qparams.scale;
  std::map<std::string, io::NamedTensor> stored;
  for (auto& t : encode_compressed_linear("mxfp4", compressed, "mxfp4-pack-quantized", at::kBFloat16)) {
    stored.emplace(t.name, t);
  }
  EXPECT_EQ(stored.count("mxfp4.weight_global_scale"), 0u);
  EXPECT_TRUE(same_bytes(stored.at("mxfp4.weight_scale").tensor, tensor("mxfp4.weight_scale")));
  EXPECT_TRUE(same_bytes(stored.at("mxfp4.weight_packed").tensor, tensor("mxfp4.weight_packed")));
}

TEST(Fp4Reference, DecodingEqualsCompressedTensorsDequantize) {
  for (const auto& [name, preset] : {std::pair<std::string, std::string>{"nvfp4", "NVFP4A16"}, {"mxfp4", "MXFP4A16"}}) {
    const quant::QuantizationArgs args = preset_weights(preset);
    const at::Tensor decoded = decode_linear_weight(fixture(), name, &args);
    EXPECT_TRUE(at::equal(decoded, tensor(name + ".decompressed"))) << name;
    // Quantizing the original weight again gives the same values (fake_quantize of the observed qparams).
    const at::Tensor weight = tensor(name + ".weight");
    const at::Tensor global = name == "nvfp4" ? quant::global_scale_for_absmax(weight.abs().max().item<float>())
                                              : at::Tensor();
    EXPECT_TRUE(at::equal(quant::fake_quantize(weight, quant::observe_weight(weight, args, {}, global), args), decoded))
        << name;
  }
}

TEST(Fp4Reference, CorruptFp4TensorsAreRefusedNamingTheTensor) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "dcomp-fp4-corrupt";
  std::filesystem::create_directories(dir);
  const quant::QuantizationArgs nvfp4 = preset_weights("NVFP4A16");
  const auto decode_error = [&](std::vector<io::NamedTensor> tensors) -> std::string {
    io::write_safetensors(dir / "model.safetensors", tensors);
    try {
      decode_linear_weight(io::CheckpointReader(dir), "m", &nvfp4);
    } catch (const DecodingError& error) {
      return error.what();
    }
    return "";
  };
  const at::Tensor packed = tensor("nvfp4.weight_packed");
  const at::Tensor scale = tensor("nvfp4.weight_scale");
  const at::Tensor global = tensor("nvfp4.weight_global_scale");
  EXPECT_NE(decode_error({{"m.weight_packed", packed, {}}, {"m.weight_scale", scale, io::DType::F8_E4M3}})
                .find("weight_global_scale, which is missing"),
            std::string::npos);
  EXPECT_NE(decode_error({{"m.weight_packed", packed, {}},
                          {"m.weight_scale", scale.narrow(1, 0, 3).contiguous(), io::DType::F8_E4M3},
                          {"m.weight_global_scale", global, {}}})
                .find("tensor \"m.weight_packed\""),
            std::string::npos);
  EXPECT_NE(decode_error({{"m.weight_packed", packed, {}},
                          {"m.weight_scale", scale, io::DType::F8_E4M3},
                          {"m.weight_global_scale", at::zeros({1}, at::kFloat), {}}})
                .find("finite and positive"),
            std::string::npos);
  EXPECT_NE(decode_error({{"m.weight_packed", packed, {}},
                          {"m.weight_scale", scale.to(at::kFloat) , {}},
                          {"m.weight_global_scale", global, {}}})
                .find("F8_E4M3"),
            std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Fp4Reference, EncodingRefusesWhatTheFormatsCannotHold) {
  const quant::QuantizationArgs args = preset_weights("NVFP4A16");
  quant::CompressedWeight weight;
  weight.weight_args = args;
  weight.codes = at::zeros({4, 16}, at::kByte);
  weight.scale = at::full({4, 1}, 0.3f);  // not an FP8 value
  weight.global_scale = at::ones({1});
  EXPECT_THROW(encode_compressed_linear("m", weight, "nvfp4-pack-quantized", at::kFloat), EncodingError);
  weight.scale = at::full({4, 1}, 0.25f);
  EXPECT_NO_THROW(encode_compressed_linear("m", weight, "nvfp4-pack-quantized", at::kFloat));
  EXPECT_THROW(encode_compressed_linear("m", weight, "pack-quantized", at::kFloat), EncodingError);
  weight.global_scale = at::Tensor();
  EXPECT_THROW(encode_compressed_linear("m", weight, "nvfp4-pack-quantized", at::kFloat), EncodingError);
}

}  // namespace
}  // namespace dcomp::ct
