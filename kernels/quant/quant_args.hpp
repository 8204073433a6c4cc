// Quantization arguments, schemes and configs in the compressed-tensors data
// model, with JSON conversion matching what that library writes and accepts.
// reference: compressed-tensors src/compressed_tensors/quantization/{quant_args,quant_scheme,quant_config}.py
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/quant/float_dtype.hpp"

namespace dcomp::quant {

/// Invalid quantization arguments or scheme; the message names the field.
class QuantConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class QuantType { Int, Float };
/// The number format of the codes, from type and num_bits: its traits (range, codec, packing,
/// scale layouts, compression formats) are one row of the table in element_formats.hpp.
enum class ElementFormat : uint8_t { Int, Fp8E4m3, Fp4E2m1 };
struct ElementFormatTraits;
enum class Strategy { Tensor, Channel, Group, Block, Token, TensorGroup };
/// Group and TensorGroup (NVFP4: groups plus one global scale per tensor) share one layout:
/// a scale per row and group of group_size columns.
inline bool is_grouped(Strategy strategy) { return strategy == Strategy::Group || strategy == Strategy::TensorGroup; }
/// How scales are rounded and stored (`scale_dtype`): Native keeps them in the model dtype
/// (null or a floating dtype); Fp8E4m3 ("torch.float8_e4m3fn", NVFP4) rounds each group scale
/// to FP8 after multiplying it by the global scale; E8M0 ("torch.uint8" with groups of 32, MX)
/// makes each scale a power of two, stored as its biased exponent.
enum class ScaleDType { Native, Fp8E4m3, E8M0 };
/// GPTQ activation ordering. Static ("static"/"weight") keeps each column's
/// original group; Group ("group"/"dynamic") regroups columns in permuted order.
enum class ActOrder { None, Static, Group };

struct QuantizationArgs {
  int num_bits = 8;
  QuantType type = QuantType::Int;
  bool symmetric = true;
  std::optional<int> group_size;             // > 0 for Group; -1 means Channel
  std::optional<Strategy> strategy;          // inferred from group_size when absent
  std::optional<std::vector<int>> block_structure;  // [rows, cols] for Block
  bool dynamic = false;
  /// dynamic: "local" (TensorGroup activations): group scales computed per call, the global
  /// scale calibrated (input_global_scale). Implies dynamic.
  bool local_dynamic = false;
  ScaleDType scale_dtype = ScaleDType::Native;
  ActOrder actorder = ActOrder::None;
  std::string actorder_literal;              // as given ("static", "weight", "group", "dynamic"), for writing back
  std::optional<std::string> observer;       // "minmax", "memoryless_minmax", "static_minmax", "mse", "memoryless_mse"
  nlohmann::json observer_kwargs = nlohmann::json::object();
  /// Not part of the config (never read or written as JSON): the dtype of the model whose tensors
  /// are quantized. compressed-tensors keeps a module's scales and zero points in its weight's dtype
  /// and computes them, and the codes, with torch operations on tensors of that dtype; QuantGrid
  /// follows those operations for BF16 and F16 (quant_grid.hpp). Set by the quantizing modifiers
  /// from the model being compressed.
  FloatDType model_dtype = FloatDType::F32;

  /// Strategy after inference: group_size None → Tensor, > 0 → Group, -1 → Channel.
  Strategy resolved_strategy() const;
  /// Integer range [q_min, q_max] (Int) or ±max (Float: E4M3 ±448, E2M1 ±6).
  double q_min() const;
  double q_max() const;
  /// The element format of the codes (type and num_bits; a float width no format takes gives
  /// FP8, which validate() refuses) and its traits (element_formats.hpp).
  ElementFormat element_format() const;
  const ElementFormatTraits& traits() const;
  /// Checks consistency (bits 1..8 for Int, 8 or 4 for Float, group_size for Group, the FP4
  /// layouts NVFP4 and MXFP4, ...).
  void validate() const;
};

/// One config group: which modules, and how their weights / activations are quantized.
struct QuantizationScheme {
  std::vector<std::string> targets;
  std::optional<QuantizationArgs> weights;
  std::optional<QuantizationArgs> input_activations;
  std::optional<QuantizationArgs> output_activations;
  std::optional<std::string> format;  // compressed-tensors format of this group
};

/// The preset schemes by name (W4A16, W4A16_ASYM, W8A16, W8A8, INT8, W4A8, W4AFP8, FP8, FP8_DYNAMIC,
/// FP8_BLOCK, NVFP4A16, NVFP4, MXFP4A16, MXFP4, UNQUANTIZED);
/// throws QuantConfigError listing the known presets for another name.
QuantizationScheme preset_scheme(const std::string& name, const std::vector<std::string>& targets);
std::vector<std::string> preset_names();
/// The fields a quantization-args object (weights, input_activations, ...) may have.
const std::set<std::string>& quantization_args_fields();

/// JSON in the compressed-tensors field layout. from_json accepts every variant
/// real checkpoints carry (missing newer fields, "observer": "minmax", actorder
/// null, strategy omitted, ...) and rejects unknown enum values with the field name.
nlohmann::json to_json(const QuantizationArgs& args);
QuantizationArgs args_from_json(const nlohmann::json& json, const std::string& where);
nlohmann::json to_json(const QuantizationScheme& scheme);
QuantizationScheme scheme_from_json(const nlohmann::json& json, const std::string& where);

std::string to_string(Strategy strategy);
std::string to_string(QuantType type);
/// The `scale_dtype` literal of a scale dtype ("torch.float8_e4m3fn", "torch.uint8"); nullptr for
/// Native, which is written as null.
const char* scale_dtype_name(ScaleDType dtype);
/// The activation ordering an `actorder` literal names: "static"/"weight" → Static,
/// "group"/"dynamic" → Group, anything else None.
ActOrder actorder_from_name(const std::string& name);

}  // namespace dcomp::quant
