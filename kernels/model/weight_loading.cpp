// reference: transformers/models/llama/modeling_llama.py (module names and parameter
// shapes of LlamaForCausalLM); each layer's tensors as its LayerLayout lists them.
#include "kernels/model/weight_loading.hpp"

#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <sstream>

#include "kernels/io/shape_text.hpp"
#include "kernels/model/layer_layout.hpp"
#include "kernels/io/layer_names.hpp"

namespace dcomp::model {
namespace {

using io::shape_text;

void check_shape(const at::Tensor& tensor, at::IntArrayRef expected, const std::string& name, const ModelConfig& config) {
  if (tensor.sizes() != expected) {
    throw ModelConfigError("tensor \"" + name + "\" has shape " + shape_text(tensor.sizes()) + " but " +
                           config.source.string() + " implies " + shape_text(expected));
  }
}

// Checks one Linear from any loader: weight shape, and a bias exactly when the config has one.
void check_linear(const LinearWeights& linear, const std::string& module, int64_t out_features, int64_t in_features,
                  bool has_bias, const ModelConfig& config) {
  if (!linear.weight.defined()) throw ModelConfigError("Linear \"" + module + "\" has no weight");
  if (linear.weight.scalar_type() != at::kFloat) {
    throw ModelConfigError("Linear \"" + module + "\" weight is not fp32 (the loader must convert it)");
  }
  check_shape(linear.weight, {out_features, in_features}, module + ".weight", config);
  if (has_bias && !linear.bias.defined()) {
    throw ModelConfigError("tensor \"" + module + ".bias\" is missing but " + config.source.string() + " (" +
                           architecture_name(config.architecture) + ") implies a bias on this Linear");
  }
  if (!has_bias && linear.bias.defined()) {
    throw ModelConfigError("tensor \"" + module + ".bias\" is present but " + config.source.string() +
                           " implies no bias on this Linear (see attention_bias / mlp_bias)");
  }
  if (has_bias) check_shape(linear.bias, {out_features}, module + ".bias", config);
}

// Loads one checkpoint tensor as owned fp32; another stored dtype is an error in
// the file's own terms (e.g. "F8_E4M3", "I32").
// The tensor as an owned fp32 copy, or (as_stored) the validated view itself.
at::Tensor read_fp32(const io::CheckpointReader& reader, const std::string& name, const at::Tensor& view,
                     bool as_stored = false) {
  const io::DType stored = reader.info(name).dtype;
  const std::string file = reader.file_of(name).string();
  if (stored != io::DType::F32 && stored != io::DType::F16 && stored != io::DType::BF16) {
    throw ModelConfigError(file + ": tensor \"" + name + "\" is stored as " + io::dtype_name(stored) +
                           "; expected F32, F16 or BF16 (a compressed checkpoint needs its own weight loader)");
  }
  return as_stored ? view : to_owned_fp32(view, name, file);
}

// Reads "<name>" from a map of one layer's tensors, naming the checkpoint when absent.
class LayerTensors {
 public:
  LayerTensors(const io::CheckpointReader& reader, std::map<std::string, at::Tensor> tensors)
      : reader_(reader), tensors_(std::move(tensors)) {}

  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }

  at::Tensor fp32(const std::string& name) const {
    const auto found = tensors_.find(name);
    if (found == tensors_.end()) {
      throw ModelConfigError(reader_.directory().string() + ": tensor \"" + name + "\" not found in the checkpoint");
    }
    return read_fp32(reader_, name, found->second);
  }

  LinearWeights linear(const std::string& module) const {
    LinearWeights weights;
    weights.weight = fp32(module + ".weight");
    if (contains(module + ".bias")) weights.bias = fp32(module + ".bias");
    return weights;
  }

 private:
  const io::CheckpointReader& reader_;
  std::map<std::string, at::Tensor> tensors_;
};

}  // namespace

at::Tensor to_owned_fp32(const at::Tensor& tensor, const std::string& name, const std::string& file) {
  const auto type = tensor.scalar_type();
  if (type != at::kFloat && type != at::kHalf && type != at::kBFloat16) {
    throw ModelConfigError(file + ": tensor \"" + name + "\" has dtype " + std::string(c10::toString(type)) +
                           "; expected F32, F16 or BF16 (a compressed checkpoint needs its own weight loader)");
  }
  // An owned copy: the checkpoint's views are read-only memory maps.
  return tensor.to(at::kFloat, /*non_blocking=*/false, /*copy=*/true).contiguous();
}

LinearLoader safetensors_linear_loader(const io::CheckpointReader& reader) {
  return [&reader](const std::string& module) {
    LinearWeights weights;
    const std::string weight_name = module + ".weight";
    if (!reader.contains(weight_name)) {
      throw ModelConfigError(reader.directory().string() + ": tensor \"" + weight_name + "\" not found in the checkpoint");
    }
    weights.weight = read_fp32(reader, weight_name, reader.load(weight_name));
    const std::string bias_name = module + ".bias";
    if (reader.contains(bias_name)) {
      weights.bias = read_fp32(reader, bias_name, reader.load(bias_name));
    }
    return weights;
  };
}

DecoderLayerWeights load_decoder_layer(const io::CheckpointReader& reader, const ModelConfig& config, int layer_index,
                                       const LinearLoader& linear_loader) {
  if (layer_index < 0 || layer_index >= config.num_hidden_layers) {
    throw ModelConfigError("decoder layer " + std::to_string(layer_index) + " does not exist: " +
                           config.source.string() + " has num_hidden_layers " + std::to_string(config.num_hidden_layers));
  }
  const std::string prefix = io::layer_prefix(layer_index);
  const LayerTensors tensors(reader, reader.load_prefix(prefix));
  const auto load_linear = [&](const std::string& name) {
    return linear_loader ? linear_loader(prefix + name) : tensors.linear(prefix + name);
  };

  DecoderLayerWeights layer;
  const LayerLayout layout = decoder_layer_layout(config, layer_index);
  layer.layout = std::make_shared<const LayerLayout>(layout);
  for (const auto& parameter : layout.parameters) {
    at::Tensor tensor = tensors.fp32(prefix + parameter.name);
    check_shape(tensor, parameter.shape, prefix + parameter.name, config);
    layer.parameters[parameter.name] = std::move(tensor);
  }
  if (layout.sparse) layer.experts.resize(static_cast<size_t>(layout.num_experts));
  for (const auto& linear : layout.linears) {
    LinearWeights& target = layer.linear(linear.name);
    target = load_linear(linear.name);
    check_linear(target, prefix + linear.name, linear.out_features, linear.in_features, linear.has_bias, config);
  }
  return layer;
}

EmbeddingAndHeadWeights load_embedding_and_head(const io::CheckpointReader& reader, const ModelConfig& config,
                                                const LinearLoader& linear_loader, bool keep_stored_dtype) {
  const auto load = [&](const std::string& name, at::IntArrayRef shape) {
    if (!reader.contains(name)) {
      throw ModelConfigError(reader.directory().string() + ": tensor \"" + name + "\" not found in the checkpoint");
    }
    at::Tensor tensor = read_fp32(reader, name, reader.load(name), keep_stored_dtype && shape.size() == 2);
    check_shape(tensor, shape, name, config);
    return tensor;
  };
  const std::string embedding_name = "model.embed_tokens.weight";
  const std::string head_name = "lm_head.weight";
  // A compressed head: lm_head.weight_scale, lm_head.weight_packed, lm_head.bitmask, ... next
  // to or in place of lm_head.weight.
  bool head_compressed = false;
  for (const std::string& name : reader.names()) {
    head_compressed = head_compressed || (name.rfind("lm_head.", 0) == 0 && name != head_name && name != "lm_head.bias");
  }
  const bool tied = !head_compressed && (config.tie_word_embeddings || !reader.contains(head_name));
  EmbeddingAndHeadWeights weights;
  // A tied checkpoint may store the shared matrix under either name (writers keep one).
  const bool embedding_stored_as_head = tied && !reader.contains(embedding_name) && reader.contains(head_name);
  weights.embed_tokens =
      load(embedding_stored_as_head ? head_name : embedding_name, {config.vocab_size, config.hidden_size});
  weights.final_norm = load("model.norm.weight", {config.hidden_size});
  if (head_compressed) {
    if (!linear_loader) {
      throw ModelConfigError(reader.directory().string() +
                             ": lm_head is stored compressed (lm_head.weight_scale, ...), but the checkpoint is "
                             "being read as plain safetensors");
    }
    LinearWeights head = linear_loader("lm_head");
    check_shape(head.weight, {config.vocab_size, config.hidden_size}, "lm_head (decoded weight)", config);
    if (head.bias.defined()) {
      throw ModelConfigError(reader.directory().string() + ": lm_head has a bias, which " +
                             config.source.string() + "'s architecture does not have");
    }
    weights.lm_head = head.weight;
    weights.lm_head_input_quantizer = head.input_quantizer;
  } else {
    weights.lm_head = tied ? weights.embed_tokens : load(head_name, {config.vocab_size, config.hidden_size});
  }
  return weights;
}

}  // namespace dcomp::model
