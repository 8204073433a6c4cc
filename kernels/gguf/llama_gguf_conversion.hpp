// A Llama-architecture GGUF file as a Hugging Face LlamaForCausalLM folder:
// config.json, generation_config.json, tokenizer.json, tokenizer_config.json and the
// weights as safetensors (one file, or shards of at most max_shard_bytes with an index).
//
// Tensor names: token_embd -> model.embed_tokens, output_norm -> model.norm, output ->
// lm_head (absent: tied embeddings), blk.N.{attn_norm, ffn_norm, attn_q, attn_k, attn_v,
// attn_output, ffn_gate, ffn_up, ffn_down} -> model.layers.N.{input_layernorm,
// post_attention_layernorm, self_attn.{q,k,v,o}_proj, mlp.{gate,up,down}_proj}.
// llama.cpp's converter interleaves the two rotary halves of every q and k head
// (rows h*D + i  ->  h*D + 2i and h*D + D/2 + i -> h*D + 2i + 1); the rows are put back
// into Hugging Face's rotate_half order here.
// Everything is checked (architecture, hyper-parameters, every tensor's name, type and
// shape, the tokenizer) before the first byte is written.
// reference: llama.cpp convert_hf_to_gguf.py (LlamaModel.permute, the tensor name map);
// transformers/integrations/ggml.py and modeling_gguf_pytorch_utils.py (reverse_permute_weights)
#pragma once

#include <ATen/core/ScalarType.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "kernels/gguf/gguf_file.hpp"

namespace dcomp::gguf {

struct GgufConversionOptions {
  at::ScalarType dtype = at::kFloat;  // of every written tensor: kFloat, kBFloat16 or kHalf
  uint64_t max_shard_bytes = uint64_t{2} << 30;
};

struct GgufConversionSummary {
  int64_t tensors = 0;
  uint64_t bytes = 0;  // of tensor data written
  int shards = 0;
  int64_t layers = 0;
  bool tied_embeddings = false;
  std::map<std::string, int64_t> source_types;  // ggml type name -> tensor count
};

/// Writes the converted model into `folder` (created by the caller, empty). Throws
/// GgufError naming the file and the problem.
GgufConversionSummary convert_llama_gguf(const GgufFile& file, const std::filesystem::path& folder,
                                         const GgufConversionOptions& options);

}  // namespace dcomp::gguf
