// reference: see checkpoint_verification.hpp; compressed-tensors' tensor names per format
// (compressors/pack_quantized, naive_quantized, float_quantized, sparse_24_bitmask).
#include "kernels/ct/checkpoint_verification.hpp"

#include <ATen/ATen.h>

#include <set>

#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/ct/compression_format.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/model/layer_layout.hpp"
#include "kernels/model/model_config.hpp"
#include "kernels/model/weight_loading.hpp"
#include "kernels/quant/element_formats.hpp"
#include "kernels/io/name_affixes.hpp"
#include "kernels/io/layer_names.hpp"

namespace dcomp::ct {
namespace {


// The per-module suffixes a dense or compressed-tensors checkpoint may store.
const std::vector<std::string>& module_suffixes() {
  static const std::vector<std::string> suffixes{
      ".weight",      ".bias",         ".weight_packed", ".weight_scale", ".weight_zero_point", ".weight_shape",
      ".weight_g_idx", ".input_scale", ".input_zero_point", ".bitmask",   ".compressed",        ".shape",
      ".row_offsets", ".k_scale",      ".v_scale",       ".weight_global_scale", ".input_global_scale",
      ".e_score_correction_bias"};
  return suffixes;
}

// The modules of the model as config.json describes it.
std::set<std::string> known_modules(const model::ModelConfig& config) {
  std::set<std::string> modules{"model.embed_tokens", "model.norm", "lm_head"};
  for (int layer = 0; layer < config.num_hidden_layers; ++layer) {
    const std::string prefix = io::layer_prefix(layer);
    const model::LayerLayout layout = model::decoder_layer_layout(config, layer);
    modules.insert(prefix + layout.attention_module);  // holds a quantized KV cache's k_scale / v_scale
    modules.insert(prefix + layout.attention_module + ".rotary_emb");  // older checkpoints' inv_freq buffer
    for (const auto& name : layout.linear_names()) modules.insert(prefix + name);
    for (const auto& parameter : layout.parameters) modules.insert(prefix + parameter.module());
  }
  return modules;
}

void check_finite(const at::Tensor& tensor, const std::string& what, VerificationReport& report) {
  if (!tensor.defined() || !at::isFloatingType(tensor.scalar_type())) return;
  const at::Tensor finite = at::isfinite(tensor);
  if (finite.all().item<bool>()) return;
  const int64_t bad = tensor.numel() - finite.sum().item<int64_t>();
  report.problems.push_back(what + ": " + std::to_string(bad) + " of " + std::to_string(tensor.numel()) +
                            " values are NaN or infinite");
}

// The scale suffix `name` ends with (".weight_scale", ".weight_global_scale", ...), "" for none.
std::string scale_suffix(const std::string& name) {
  for (const char* suffix : {".weight_global_scale", ".input_global_scale", ".weight_scale", ".input_scale",
                             ".k_scale", ".v_scale"}) {
    if (io::ends_with(name, suffix)) return suffix;
  }
  return "";
}

bool is_float_dtype(io::DType dtype) {
  return dtype == io::DType::F32 || dtype == io::DType::F16 || dtype == io::DType::BF16;
}

// Each scale in the dtype its module's format stores it in (compressed-tensors' nvfp4 and
// mxfp4 pack-quantized compressors): NVFP4 weight_scale F8_E4M3 [out, in/16] with an F32
// weight_global_scale [1]; MXFP4 weight_scale U8 E8M0 exponents [out, in/32]; global scales
// F32; every other scale floating point (F32, F16 or BF16).
void check_scale_dtype(const std::string& name, io::DType dtype, const std::string& format, const std::string& file,
                       VerificationReport& report) {
  const std::string suffix = scale_suffix(name);
  if (suffix.empty()) return;
  std::string expected;
  bool allowed = false;
  const quant::GroupScaleLayout* layout = quant::group_scale_layout_of_format(format);  // NVFP4, MXFP4
  if (suffix == ".weight_global_scale" || suffix == ".input_global_scale") {
    allowed = dtype == io::DType::F32;
    expected = "F32, as global scales are";
  } else if (suffix == ".weight_scale" && layout != nullptr && layout->scale_dtype != quant::ScaleDType::Native) {
    const bool exponents = layout->scale_dtype == quant::ScaleDType::E8M0;
    allowed = dtype == (exponents ? io::DType::U8 : io::DType::F8_E4M3);
    expected = std::string(exponents ? "U8 (E8M0 exponents)" : "F8_E4M3") + ", as " + layout->name + " (" + format +
               ") weight scales are";
  } else {
    allowed = is_float_dtype(dtype);
    expected = "floating point (F32, F16 or BF16), as " + format + " scales are";
  }
  if (!allowed) {
    report.problems.push_back(file + ": tensor \"" + name + "\" is stored as " + io::dtype_name(dtype) +
                              "; expected " + expected);
  }
}

// The storage format of the module scale `name` belongs to ("dense" without a quantization_config).
std::string format_of_scale(const CompressedCheckpoint& checkpoint, const std::string& name) {
  const std::string suffix = scale_suffix(name);
  if (suffix.empty()) return format::kDense;
  return checkpoint.format_of(name.substr(0, name.size() - suffix.size()));
}

// NaN codes of the byte-coded scales: F8_E4M3 (FN) S.1111.111, E8M0 0xFF.
void check_finite_codes(const at::Tensor& bytes, io::DType dtype, const std::string& name, const std::string& what,
                        VerificationReport& report) {
  if (dtype != io::DType::F8_E4M3 && !(dtype == io::DType::U8 && !scale_suffix(name).empty())) return;
  const at::Tensor nan = dtype == io::DType::F8_E4M3 ? at::bitwise_and(bytes, 0x7F).eq(0x7F) : bytes.eq(0xFF);
  const int64_t bad = nan.sum().item<int64_t>();
  if (bad == 0) return;
  report.problems.push_back(what + ": " + std::to_string(bad) + " of " + std::to_string(bytes.numel()) +
                            " values are NaN codes (" + io::dtype_name(dtype) + ")");
}

}  // namespace

VerificationReport verify_checkpoint(const std::filesystem::path& dir) {
  VerificationReport report;
  std::optional<model::ModelConfig> config;
  std::optional<io::CheckpointReader> reader;
  std::optional<CompressedCheckpoint> checkpoint;
  model::LinearLoader loader;
  try {
    config = model::ModelConfig::from_dir(dir);
    reader.emplace(dir);
    loader = make_linear_loader(dir);
    checkpoint.emplace(dir);
  } catch (const std::exception& error) {
    report.problems.push_back(error.what());
    return report;
  }
  if (!loader) loader = model::safetensors_linear_loader(*reader);

  // Every stored tensor: readable, belonging to a module of the model, each scale in its
  // format's dtype and every floating tensor finite.
  const auto modules = known_modules(*config);
  for (const std::string& name : reader->names()) {
    const std::string file = reader->file_of(name).filename().string();
    try {
      const io::TensorInfo info = reader->info(name);
      const at::Tensor tensor = reader->load(name);
      ++report.tensors_read;
      check_scale_dtype(name, info.dtype, format_of_scale(*checkpoint, name), file, report);
      check_finite(tensor, file + ": tensor \"" + name + "\"", report);
      check_finite_codes(tensor, info.dtype, name, file + ": tensor \"" + name + "\"", report);
    } catch (const std::exception& error) {
      report.problems.push_back(error.what());
      continue;
    }
    std::string module;
    for (const auto& suffix : module_suffixes()) {
      if (io::ends_with(name, suffix)) {
        module = name.substr(0, name.size() - suffix.size());
        break;
      }
    }
    if (module.empty() || !modules.count(module)) {
      const int64_t layer = io::layer_index_of(name).value_or(-1);
      const bool deeper = layer >= config->num_hidden_layers;
      report.problems.push_back(file + ": tensor \"" + name + "\" " +
                                (deeper ? "belongs to layer " + std::to_string(layer) + ", but config.json has " +
                                              "num_hidden_layers " + std::to_string(config->num_hidden_layers)
                                        : std::string("is not part of the model config.json describes")));
    }
  }

  // Each decoder layer as a loader builds it: every Linear decoded under its scheme and
  // checked against the shapes config.json implies, one layer in memory at a time.
  for (int layer = 0; layer < config->num_hidden_layers; ++layer) {
    const std::string prefix = io::layer_name(layer);
    try {
      const model::DecoderLayerWeights weights = model::load_decoder_layer(*reader, *config, layer, loader);
      for (const auto& name : weights.linear_names()) {
        const auto& linear = weights.linear(name);
        ++report.linears_decoded;
        check_finite(linear.weight, prefix + "." + name + " (decoded weight)", report);
        check_finite(linear.bias, prefix + "." + name + ".bias", report);
      }
    } catch (const std::exception& error) {
      report.problems.push_back(prefix + ": " + error.what());
    }
    reader->release_prefix(prefix + ".");
  }
  try {
    const auto head = model::load_embedding_and_head(*reader, *config, loader);
    check_finite(head.embed_tokens, "model.embed_tokens.weight", report);
    check_finite(head.final_norm, "model.norm.weight", report);
    check_finite(head.lm_head, "lm_head.weight", report);
  } catch (const std::exception& error) {
    report.problems.push_back(error.what());
  }
  return report;
}

}  // namespace dcomp::ct
