// The "quantization_config" object of a compressed-tensors checkpoint's config.json:
// building it for a compressed model, and reading it back from any checkpoint.
//
// reference: compressed-tensors src/compressed_tensors/quantization/quant_config.py
// (QuantizationConfig fields), compressors/model_compressors/model_compressor.py
// (update_config: version, quant_method, sparsity_config, transform_config), and
// config/dense.py, config/sparse_24_bitmask.py (sparsity_config fields).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/quant/quant_args.hpp"

namespace dcomp::ct {

/// The compressed-tensors release whose config layout is written (scale_dtype and
/// zp_dtype fields, per-group format, int-before-pack format inference). The version
/// field is informational: transformers and compressed-tensors do not check it.
inline constexpr const char* kCompressedTensorsVersion = "0.18.0";

/// The class name a Linear module has for target matching ("Linear").
const std::vector<std::string>& linear_class_names();

struct QuantizationConfigOptions {
  /// Forces one format on every group (compressed-tensors' quantization_format).
  std::optional<std::string> forced_format;
  /// KV-cache quantization, written as "kv_cache_scheme" (null when absent).
  std::optional<quant::QuantizationArgs> kv_cache_scheme;
  /// The "sparsity_config" object ({} when the model is not sparse); see build_sparsity_config.
  nlohmann::json sparsity_config = nlohmann::json::object();
  std::string version = kCompressedTensorsVersion;
};

/// The quantization_config for config.json. Each group (name, scheme) becomes
/// config_groups[name] with its "format" filled in (scheme.format, the forced format,
/// or the inferred one); the top-level "format" is the single format of all groups or
/// "mixed-precision". quantization_status is "compressed", global_compression_ratio
/// null, transform_config {}. Throws quant::QuantConfigError for an invalid scheme,
/// a group without targets, or a repeated group name.
/// vLLM quantizes its ParallelLMHead only when a config group names "lm_head" (exactly, or
/// a "re:" pattern matching it): class-name targets ("Linear") select the head in
/// transformers and compressed-tensors but not in vLLM, which then refuses the checkpoint
/// ("no module or parameter named 'lm_head.weight_packed'"). For a checkpoint whose head is
/// quantized, adds "lm_head" to the targets of the first group that holds a class-name target
/// when no group names it yet; the head's scheme is unchanged (the group already selected it).
/// reference: vLLM compressed_tensors.py CompressedTensorsConfig.get_quant_method
/// (the ParallelLMHead branch), compressed-tensors utils/match.py (is_match).
void name_quantized_head_in_targets(std::vector<std::pair<std::string, quant::QuantizationScheme>>& groups);

nlohmann::json build_quantization_config(const std::vector<std::pair<std::string, quant::QuantizationScheme>>& groups,
                                         const std::vector<std::string>& ignore,
                                         const QuantizationConfigOptions& options = {});

/// A "sparsity_config" object describing weights pruned to `structure` ("2:4",
/// "unstructured", ...) and stored densely (zeros in place): {"format": "dense", ...}.
/// Pass format "sparse-24-bitmask" for the legacy compressed 2:4 layout.
nlohmann::json build_sparsity_config(const std::string& structure, double global_sparsity,
                                     const std::vector<std::string>& targets, const std::vector<std::string>& ignore,
                                     const std::string& format = "dense");

/// The parsed quantization_config of an existing checkpoint. Accepts every layout
/// compressed-tensors has written (see quant::args_from_json) and config groups given
/// as a preset name mapped to a target list.
struct QuantizationConfig {
  std::vector<std::pair<std::string, quant::QuantizationScheme>> groups;
  std::vector<std::string> ignore;
  std::string format = "dense";  // top-level format
  std::string quantization_status;
  /// KV-cache quantization as written (null when absent); it does not change stored weights.
  nlohmann::json kv_cache_scheme;
  /// Legacy sparsity compression: format ("dense", "sparse-24-bitmask", ...) and its targets / ignore.
  std::optional<std::string> sparsity_format;
  std::vector<std::string> sparsity_targets;
  std::vector<std::string> sparsity_ignore;

  /// Parses `json` (the quantization_config object); `where` names it in errors.
  static QuantizationConfig from_json(const nlohmann::json& json, const std::string& where);

  /// The group whose scheme governs Linear `module_name`, or nullptr when the module
  /// is ignored or no group targets it.
  const std::pair<std::string, quant::QuantizationScheme>* group_for(const std::string& module_name) const;

  /// The storage format of Linear `module_name`: its group's format, else the
  /// top-level format when it is not "mixed-precision", else the inferred format;
  /// "dense" for a module no group quantizes.
  std::string format_for(const std::string& module_name) const;

  /// True when the legacy sparse-24-bitmask compression applies to `module_name`.
  bool uses_sparse_24_bitmask(const std::string& module_name) const;
};

}  // namespace dcomp::ct
