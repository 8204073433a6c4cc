// A real model (a dense checkpoint, e.g. TinyStories-656K) rewritten the way DeepSeek-V3 and the
// Qwen3 -FP8 models are released: every decoder Linear's weight as F8_E4M3 with a
// weight_scale_inv per [B0, B1] block (absmax / 448, as DeepSeek's fp8 cast), config.json with
// quantization_config {"quant_method": "fp8", "weight_block_size": [B0, B1]}; beside it the same
// model with those weights dequantized by a plain loop over the elements (the independent
// reference: e4m3(w[r][c]) · scale[r / B0][c / B1]).
#pragma once

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "kernels/io/safetensors.hpp"
#include "kernels/quant/fp8_e4m3.hpp"
#include "kernels/io/name_affixes.hpp"

namespace dcomp::testing {

struct Fp8BlockModels {
  std::filesystem::path fp8;        // the FP8 block release
  std::filesystem::path reference;  // the same weights dequantized, as a dense fp32 checkpoint
};

// "model.layers.<i>.<block>.<x>_proj.weight" (or DeepSeek-V3's kv_a_proj_with_mqa.weight): a
// decoder Linear's weight, which the releases store in FP8 (routers stay BF16).
inline bool is_decoder_linear_weight(const std::string& name) {
  return io::starts_with(name, "model.layers.") &&
         (io::ends_with(name, "_proj.weight") || io::ends_with(name, "_proj_with_mqa.weight"));
}

inline Fp8BlockModels write_fp8_block_models(const std::filesystem::path& source, const std::filesystem::path& folder,
                                             int64_t block_rows, int64_t block_columns) {
  Fp8BlockModels out{folder / "fp8", folder / "reference"};
  std::filesystem::create_directories(out.fp8);
  std::filesystem::create_directories(out.reference);
  const io::CheckpointReader reader(source);
  std::vector<io::NamedTensor> fp8_tensors, reference_tensors;
  for (const std::string& name : reader.names()) {
    const at::Tensor tensor = reader.load(name).to(at::kFloat).contiguous();
    if (!is_decoder_linear_weight(name)) {
      fp8_tensors.push_back({name, tensor, std::nullopt});
      reference_tensors.push_back({name, tensor, std::nullopt});
      continue;
    }
    const int64_t rows = tensor.size(0), columns = tensor.size(1);
    const int64_t grid_rows = (rows + block_rows - 1) / block_rows;
    const int64_t grid_columns = (columns + block_columns - 1) / block_columns;
    at::Tensor scale = at::empty({grid_rows, grid_columns}, at::kFloat);
    at::Tensor codes = at::empty({rows, columns}, at::kByte);
    at::Tensor dequantized = at::empty({rows, columns}, at::kFloat);
    const float* w = tensor.data_ptr<float>();
    for (int64_t br = 0; br < grid_rows; ++br) {
      for (int64_t bc = 0; bc < grid_columns; ++bc) {
        float absmax = 0.0f;
        for (int64_t r = br * block_rows; r < std::min(rows, (br + 1) * block_rows); ++r) {
          for (int64_t c = bc * block_columns; c < std::min(columns, (bc + 1) * block_columns); ++c) {
            absmax = std::max(absmax, std::fabs(w[r * columns + c]));
          }
        }
        scale[br][bc] = absmax > 0.0f ? absmax / quant::kFp8E4m3Max : 1.0f;
      }
    }
    const float* s = scale.data_ptr<float>();
    uint8_t* q = codes.data_ptr<uint8_t>();
    float* d = dequantized.data_ptr<float>();
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < columns; ++c) {
        const float block_scale = s[(r / block_rows) * grid_columns + c / block_columns];
        q[r * columns + c] = quant::fp8_e4m3_from_float(w[r * columns + c] / block_scale);
        d[r * columns + c] = quant::fp8_e4m3_to_float(q[r * columns + c]) * block_scale;
      }
    }
    const std::string module = name.substr(0, name.size() - 7);
    fp8_tensors.push_back({name, codes, io::DType::F8_E4M3});
    fp8_tensors.push_back({module + ".weight_scale_inv", scale, std::nullopt});
    reference_tensors.push_back({name, dequantized, std::nullopt});
  }
  io::write_safetensors(out.fp8 / "model.safetensors", fp8_tensors);
  io::write_safetensors(out.reference / "model.safetensors", reference_tensors);
  for (const auto& entry : std::filesystem::directory_iterator(source)) {
    const std::string file = entry.path().filename().string();
    if (file == "config.json" || file.find(".safetensors") != std::string::npos) continue;  // written below
    std::filesystem::copy_file(entry.path(), out.fp8 / file);
    std::filesystem::copy_file(entry.path(), out.reference / file);
  }
  nlohmann::json config = nlohmann::json::parse(std::ifstream(source / "config.json"));
  config["torch_dtype"] = "float32";
  std::ofstream(out.reference / "config.json") << config.dump(2);
  config["quantization_config"] = {{"quant_method", "fp8"},
                                   {"fmt", "e4m3"},
                                   {"activation_scheme", "dynamic"},
                                   {"weight_block_size", {block_rows, block_columns}}};
  std::ofstream(out.fp8 / "config.json") << config.dump(2);
  return out;
}

}  // namespace dcomp::testing
