// Loading the fp32 weights of a Llama-family model from a Hugging Face checkpoint
// folder, one decoder layer at a time, with every shape checked against config.json.
//
// Tensor names follow transformers' LlamaForCausalLM state dict:
//   model.embed_tokens.weight, model.layers.<i>.{input_layernorm,post_attention_layernorm}.weight,
//   model.layers.<i>.self_attn.{q,k,v,o}_proj.{weight,bias}, model.layers.<i>.self_attn.{q,k}_norm.weight,
//   model.layers.<i>.mlp.{gate,up,down}_proj.{weight,bias}, model.norm.weight, lm_head.weight.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/io/safetensors.hpp"
#include "kernels/model/decoder_layer_weights.hpp"
#include "kernels/model/embedding_and_head.hpp"
#include "kernels/model/linear.hpp"
#include "kernels/model/model_config.hpp"

namespace dcomp::model {

/// Supplies one Linear's fp32 weights given its full module name
/// ("model.layers.3.self_attn.q_proj"). The default reads plain safetensors; a
/// compressed checkpoint supplies dequantized weights through its own loader.
using LinearLoader = std::function<LinearWeights(const std::string& module_name)>;

/// The plain loader: "<name>.weight" and, when present, "<name>.bias" from
/// `reader` (which must outlive the loader), converted to owned fp32 tensors.
LinearLoader safetensors_linear_loader(const io::CheckpointReader& reader);

/// Copies a floating-point checkpoint tensor (F32, F16 or BF16) into an owned,
/// contiguous fp32 tensor; any other dtype is a ModelConfigError naming `name` and `file`.
at::Tensor to_owned_fp32(const at::Tensor& tensor, const std::string& name, const std::string& file);

/// Loads decoder layer `layer_index`: its norms from load_prefix("model.layers.<i>."),
/// its Linears through `linear_loader` (plain safetensors when empty). Every shape
/// and the presence of each bias are checked against `config`; a mismatch is a
/// ModelConfigError naming the tensor, its shape and the shape config.json implies.
/// The Linears are those of the layer's LayerLayout (set as the result's layout).
DecoderLayerWeights load_decoder_layer(const io::CheckpointReader& reader, const ModelConfig& config, int layer_index,
                                       const LinearLoader& linear_loader = {});

/// Loads the embedding, the final norm and the LM head; the head is tied to the
/// embedding when config.tie_word_embeddings or when no lm_head tensor is stored (a
/// tied checkpoint may hold the shared matrix as lm_head.weight only). A head stored
/// compressed (lm_head.* tensors besides lm_head.weight) is read with `linear_loader`,
/// which must then be given.
/// `keep_stored_dtype`: the plain embedding and head stay the checkpoint's zero-copy views
/// in their stored dtype (BF16, F16 or F32) instead of fp32 copies, for a streamed run that
/// only gathers embedding rows and writes both back (Llama-3-8B: 2 GB instead of 4 GB held).
EmbeddingAndHeadWeights load_embedding_and_head(const io::CheckpointReader& reader, const ModelConfig& config,
                                                const LinearLoader& linear_loader = {}, bool keep_stored_dtype = false);

}  // namespace dcomp::model
