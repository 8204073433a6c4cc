#include "pipeline/compressed_checkpoint_sink.hpp"

#include <algorithm>
#include <set>

#include "pipeline/finite_checks.hpp"
#include "pipeline/folder_seen_by_every_rank.hpp"
#include "pipeline/llama_model_handle.hpp"
#include "pipeline/run_progress.hpp"
#include "kernels/ct/quantization_config.hpp"
#include "kernels/ct/target_matching.hpp"
#include "kernels/model/layer_layout.hpp"
#include "kernels/io/layer_names.hpp"
#include "kernels/io/name_affixes.hpp"

namespace dcomp::pipeline {

CompressedCheckpointSink::CompressedCheckpointSink(const std::filesystem::path& source,
                                                   const std::filesystem::path& output,
                                                   const model::ModelConfig& config, bool overwrite,
                                                   std::string recipe_text, comm::Communicator& comm,
                                                   const std::optional<std::filesystem::path>& resume_dir)
    : comm_(comm), tied_embeddings_(config.tie_word_embeddings), recipe_text_(std::move(recipe_text)) {
  ct::CheckpointWriterOptions options;
  options.overwrite = overwrite;
  options.shard_prefix = "rank" + std::to_string(comm.rank()) + "-shard-";
  options.refuse_non_finite = true;
  std::string temporary;
  if (comm.rank() == 0) {
    options.adopt_temporary_dir = resume_dir;
    writer_ = std::make_unique<ct::CheckpointWriter>(output, source, options);
    if (resume_dir) writer_->keep_temporary_dir_on_abort();
    temporary = writer_->temporary_dir().string();
  }
  comm.broadcast_bytes(temporary, 0);
  // Every rank writes into rank 0's folder: where some rank does not see it (an output on a
  // node-local file system), every rank stops here, after rank 0 removed the folder (or, on
  // --resume, left the saved progress as it was).
  if (const std::string blind = ranks_not_seeing_folder(temporary, comm); !blind.empty()) {
    if (writer_) writer_->abort();
    comm.barrier();
    throw ct::CheckpointWriteError(temporary + ": the output's temporary folder is not visible to " + blind +
                                   "; the output folder must be on a file system that every node shares");
  }
  if (comm.rank() != 0) {
    options.shared_temporary_dir = temporary;
    writer_ = std::make_unique<ct::CheckpointWriter>(output, source, options);
  }
}

void CompressedCheckpointSink::write_linear(const lifecycle::LinearModule& module) {
  // Every scheme's scales before they are encoded (FP8, E8M0) and lose their NaNs and
  // infinities; the writer checks every tensor again as stored (refuse_non_finite).
  require_finite_scales(module);
  if (module.compressed && module.compressed->weight_args) {
    writer_->add_compressed_linear(module.name, *module.compressed, module.bias);
    return;
  }
  // Not quantized (possibly pruned or smoothed): the dense weight as it now is.
  writer_->add_tensor(module.name + ".weight", module.weight);
  if (module.bias.defined()) writer_->add_tensor(module.name + ".bias", module.bias);
}

void CompressedCheckpointSink::write_layer(const lifecycle::LayerWork& layer,
                                           const model::DecoderLayerWeights& weights) {
  if (layer.layer_index % comm_.world_size() != comm_.rank()) return;  // another rank writes it
  for (const auto& module : layer.linears) write_linear(module);
  for (const auto& [name, weight] : layer.norm_weights) writer_->add_tensor(name + ".weight", weight);
  for (const auto& [name, tensor] : layer.parameters) {
    // transformers keeps the router's score correction bias in fp32 (_keep_in_fp32_modules_strict).
    const bool fp32 = io::ends_with(name, ".e_score_correction_bias");
    writer_->add_tensor(name, tensor, fp32 ? std::optional<io::DType>(io::DType::F32) : std::nullopt);
  }
  for (const auto& [name, scale] : layer.attention_scales) writer_->add_tensor(name, scale);  // model dtype
  written_shards_.push_back(writer_->write_named_shard(layer_shard_file(layer.layer_index)));
}

void CompressedCheckpointSink::write_embedding_and_head(const model::EmbeddingAndHeadWeights& weights,
                                                        const lifecycle::LinearModule* compressed_head) {
  if (comm_.rank() != 0) return;
  writer_->add_tensor("model.embed_tokens.weight", weights.embed_tokens);
  writer_->add_tensor("model.norm.weight", weights.final_norm);
  // A head a modifier left as it was (ConstantPruningModifier records its zeros and keeps
  // the tensor) is written as before, tied or not.
  const bool head_changed = compressed_head && compressed_head->compressed &&
                            (compressed_head->compressed->weight_args || !compressed_head->weight.is_same(weights.lm_head));
  if (head_changed) {
    // A compressed head of a tied model is untied, as llm-compressor does
    // (untie_word_embeddings): the embedding stays as it was.
    write_linear(*compressed_head);
    quantized_head_ = compressed_head->compressed->weight_args.has_value();
    if (tied_embeddings_) writer_->set_config_entry("tie_word_embeddings", false);
  } else if (!tied_embeddings_) {
    writer_->add_tensor("lm_head.weight", weights.lm_head);
  }
  written_shards_.push_back(writer_->write_named_shard("embedding-and-head.safetensors"));
}

void CompressedCheckpointSink::keep_on_failure() {
  if (comm_.rank() == 0) writer_->keep_temporary_dir_on_abort();
}

void CompressedCheckpointSink::discard_after_failure() {
  writer_->discard_temporary_dir_on_abort();
  writer_->abort();
}

namespace {

std::string encode_shards(const std::vector<ct::ShardRecord>& shards) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& shard : shards) list.push_back({{"file", shard.file}, {"tensors", shard.tensors}, {"bytes", shard.bytes}});
  return list.dump();
}

std::vector<ct::ShardRecord> decode_shards(const std::string& text) {
  std::vector<ct::ShardRecord> shards;
  for (const auto& item : nlohmann::json::parse(text)) {
    shards.push_back({item.at("file").get<std::string>(), item.at("tensors").get<std::vector<std::string>>(),
                      item.at("bytes").get<uint64_t>()});
  }
  return shards;
}

/// The recipe's ignore list, then every router the checkpoint stores dense (its ".weight" with
/// neither a scale nor packed codes beside it, in any shard: this run's and an interrupted run's
/// it adopted) that the list does not already match, by layer. vLLM builds some routers
/// (Qwen3-MoE's GateLinear) with the checkpoint's quantization config, so a group targeting
/// "Linear" makes it expect a quantized router unless the router is ignored by name, as
/// compressed-tensors names every Linear it leaves unquantized.
// reference: compressed-tensors QuantizationConfig.from_pretrained (ignore: unquantized modules of a quantized type)
std::vector<std::string> ignore_with_dense_routers(std::vector<std::string> ignore,
                                                   const std::vector<ct::ShardRecord>& shards) {
  std::set<std::string> names;
  for (const auto& shard : shards) names.insert(shard.tensors.begin(), shard.tensors.end());
  std::vector<std::string> routers;
  for (const auto& name : names) {
    if (!io::ends_with(name, ".weight")) continue;
    const std::string module = name.substr(0, name.size() - 7);
    if (model::is_router_module(module) && !names.count(module + ".weight_scale") &&
        !names.count(module + ".weight_packed") && !ct::matches_any(ignore, module, {"Linear"})) {
      routers.push_back(module);
    }
  }
  std::sort(routers.begin(), routers.end(), [](const std::string& a, const std::string& b) {
    return std::make_pair(io::layer_index_of(a), a) < std::make_pair(io::layer_index_of(b), b);
  });
  ignore.insert(ignore.end(), routers.begin(), routers.end());
  return ignore;
}

}  // namespace

void CompressedCheckpointSink::finish(const lifecycle::CompressionPlan& plan,
                                      const std::vector<ct::ShardRecord>& earlier_shards,
                                      const std::map<std::string, std::string>& files) {
  // Every rank's shards are complete and synced before rank 0 publishes the folder.
  // Other ranks hand over any tensors not yet in a named shard; rank 0's go in finish().
  std::vector<ct::ShardRecord> mine = comm_.rank() == 0 ? std::vector<ct::ShardRecord>{} : writer_->finish_shards();
  mine.insert(mine.end(), written_shards_.begin(), written_shards_.end());
  const std::vector<std::string> all = comm_.all_gather_bytes(encode_shards(mine));
  if (comm_.rank() != 0) return;
  std::vector<ct::ShardRecord> shards = earlier_shards;
  for (const auto& text : all) {
    for (auto& shard : decode_shards(text)) shards.push_back(std::move(shard));
  }
  // Decoder layers in order, then the rest by name: the same files whatever the ranks.
  std::sort(shards.begin(), shards.end(), [](const ct::ShardRecord& a, const ct::ShardRecord& b) {
    const bool a_layer = a.file.rfind("layer-", 0) == 0;
    const bool b_layer = b.file.rfind("layer-", 0) == 0;
    if (a_layer != b_layer) return a_layer;
    return a.file < b.file;
  });
  nlohmann::json sparsity =
      plan.sparsity_config.empty() || !write_sparsity_config_ ? nlohmann::json(nullptr) : plan.sparsity_config;
  nlohmann::json quantization = nullptr;
  if (!plan.quantization_groups.empty()) {
    ct::QuantizationConfigOptions options;
    if (!sparsity.is_null()) options.sparsity_config = sparsity;
    options.kv_cache_scheme = plan.kv_cache_scheme;
    auto groups = plan.quantization_groups;
    if (quantized_head_) ct::name_quantized_head_in_targets(groups);
    quantization =
        ct::build_quantization_config(groups, ignore_with_dense_routers(plan.quantization_ignore, shards), options);
  }
  writer_->add_file("recipe.yaml", recipe_text_);
  for (const auto& [name, contents] : files) writer_->add_file(name, contents);
  writer_->finish(quantization, sparsity, shards);
}

}  // namespace dcomp::pipeline
