// Helpers for the compressed-tensors tests: scratch folders, a tiny source model
// folder, and plain (loop-based) dequantization used as the reference.
#pragma once

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/quant/fp8_e4m3.hpp"
#include "kernels/quant/compressed_weight.hpp"

namespace dcomp::ct::testing {

/// A fresh folder under the system temp directory, removed with its contents.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dcomp-ct-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Writes `text` to `path`, creating its folders.
inline void write_file(const std::filesystem::path& path, const std::string& text) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream stream(path, std::ios::binary);
  stream << text;
}

inline nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream stream(path);
  return nlohmann::json::parse(stream);
}

/// A source model folder holding only config.json (with `torch_dtype`) and tokenizer files.
inline std::filesystem::path make_source_model(const std::filesystem::path& root, const std::string& torch_dtype) {
  const std::filesystem::path dir = root / "source";
  std::filesystem::create_directories(dir);
  const nlohmann::json config = {{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 64},
                                 {"model_type", "llama"},                {"torch_dtype", torch_dtype},
                                 {"vocab_size", 32},                     {"rms_norm_eps", 1e-6}};
  write_file(dir / "config.json", config.dump(2));
  write_file(dir / "tokenizer.json", R"({"model": {"type": "BPE"}})");
  write_file(dir / "generation_config.json", R"({"bos_token_id": 1})");
  return dir;
}

/// The entries of `dir` (names only).
inline std::vector<std::string> folder_entries(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

/// E4M3 byte → value by the format's definition (sign, 4-bit exponent with bias 7, 3-bit mantissa).
inline float e4m3_value(uint8_t byte) {
  const int exponent = (byte >> 3) & 0xF, mantissa = byte & 7;
  const float magnitude = exponent == 0 ? mantissa / 8.0f * std::pow(2.0f, -6.0f)
                                        : (1.0f + mantissa / 8.0f) * std::pow(2.0f, float(exponent - 7));
  return (byte & 0x80) ? -magnitude : magnitude;
}

/// A weight quantized round-to-nearest here, and its dequantized value.
struct RtnWeight {
  quant::CompressedWeight compressed;
  at::Tensor dequantized;  // [out, in] fp32: (q - zp) * scale
};

/// Round-to-nearest quantization with compressed-tensors' scales: symmetric INT
/// absmax / ((q_max - q_min) / 2), asymmetric (max - min) / (q_max - q_min) with
/// zp = round(q_min - min / scale), FP8 absmax / 448. Tensor, channel and group strategies.
inline RtnWeight quantize_rtn(const at::Tensor& weight, const quant::QuantizationArgs& args) {
  const int64_t out = weight.size(0), in = weight.size(1);
  const auto strategy = args.resolved_strategy();
  const int64_t rows = strategy == quant::Strategy::Tensor ? 1 : out;
  const int64_t group = strategy == quant::Strategy::Group ? *args.group_size : (rows == 1 ? out * in : in);
  const at::Tensor grouped = weight.reshape({rows, -1, group});  // [rows, groups, group]
  const double q_min = args.q_min(), q_max = args.q_max();
  at::Tensor scale, zero_point, codes, values;
  if (args.type == quant::QuantType::Float) {
    scale = grouped.abs().amax(2).div(q_max).clamp_min(1e-12);
    const at::Tensor scaled = grouped.div(scale.unsqueeze(2)).clamp(q_min, q_max);
    codes = quant::encode_fp8_e4m3(scaled.contiguous()).reshape({out, in});
    values = quant::decode_fp8_e4m3(codes).reshape(grouped.sizes());
  } else if (args.symmetric) {
    scale = grouped.abs().amax(2).div((q_max - q_min) / 2.0).clamp_min(1e-12);
    values = grouped.div(scale.unsqueeze(2)).round().clamp(q_min, q_max);
    codes = values.reshape({out, in}).to(at::kChar);
  } else {
    const at::Tensor low = grouped.amin(2).clamp_max(0), high = grouped.amax(2).clamp_min(0);
    scale = (high - low).div(q_max - q_min).clamp_min(1e-12);
    zero_point = (q_min - low / scale).round().clamp(q_min, q_max);
    values = grouped.div(scale.unsqueeze(2)).add(zero_point.unsqueeze(2)).round().clamp(q_min, q_max);
    codes = values.reshape({out, in}).to(at::kChar);
    values = values - zero_point.unsqueeze(2);
  }
  RtnWeight result;
  result.compressed.weight_args = args;
  result.compressed.codes = codes;
  result.compressed.scale = strategy == quant::Strategy::Tensor ? scale.reshape({1}) : scale;
  if (zero_point.defined()) result.compressed.zero_point = zero_point.reshape(result.compressed.scale.sizes()).to(at::kInt);
  result.dequantized = values.mul(scale.unsqueeze(2)).reshape({out, in});
  result.compressed.effective_weight = result.dequantized;
  return result;
}

}  // namespace dcomp::ct::testing
