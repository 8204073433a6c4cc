// Fuzzes config.json parsing (kernels/model/model_config.cpp): the input is written
// as <tmpfs folder>/config.json and read with ModelConfig::from_dir, the entry point
// the loader uses. An accepted config must describe a consistent attention layout.
// reference: https://llvm.org/docs/LibFuzzer.html

#include <optional>
#include <string>

#include "kernels/model/model_config.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using dcomp::fuzz::check;
using dcomp::model::ModelConfig;
using dcomp::model::ModelConfigError;
using dcomp::model::RopeScalingType;

void check_config(const ModelConfig& config) {
  check(config.hidden_size > 0 && config.intermediate_size > 0 && config.num_hidden_layers > 0 &&
            config.vocab_size > 0 && config.max_position_embeddings > 0,
        "sizes are positive");
  check(config.num_attention_heads > 0 && config.num_key_value_heads > 0 &&
            config.num_attention_heads % config.num_key_value_heads == 0 && config.query_heads_per_kv_head() >= 1,
        "query heads are a multiple of key/value heads");
  check(config.head_dim > 0 && config.head_dim % 2 == 0, "head_dim is positive and even");
  check(config.rms_norm_eps > 0 && config.rope_theta > 0, "rms_norm_eps and rope_theta are positive");
  if (config.rope_scaling.type == RopeScalingType::Llama3) {
    check(config.rope_scaling.factor > 0 && config.rope_scaling.original_max_position_embeddings > 0 &&
              config.rope_scaling.high_freq_factor > config.rope_scaling.low_freq_factor,
          "llama3 rope scaling is usable");
  }
  if (config.sliding_window) check(*config.sliding_window > 0, "sliding_window is positive");
  check(config.raw.is_object(), "the raw config is the JSON object read");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const dcomp::fuzz::ScratchDir scratch("model-config");
  scratch.write("config.json", data, size);
  std::optional<ModelConfig> config;
  dcomp::fuzz::parse_or_reject<ModelConfigError>([&] { config = ModelConfig::from_dir(scratch.path()); });
  if (config) check_config(*config);
  return 0;
}
