// The decoder-layer names (kernels/io/layer_names.hpp) against names written out by hand, as
// Hugging Face checkpoints spell them, and the name affixes against their plain definitions.
#include <gtest/gtest.h>

#include <string>

#include "kernels/io/layer_names.hpp"
#include "kernels/io/name_affixes.hpp"

namespace dcomp::io {
namespace {

TEST(LayerNames, BuildTheNamesCheckpointsUse) {
  EXPECT_EQ(layer_name(0), "model.layers.0");
  EXPECT_EQ(layer_name(std::string("17")), "model.layers.17");  // GGUF's "blk.17." digits
  EXPECT_EQ(layer_prefix(60), "model.layers.60.");
  EXPECT_EQ(layer_module_name(3, "self_attn.q_proj"), "model.layers.3.self_attn.q_proj");
  EXPECT_EQ(layer_module_name(int64_t{3}, "mlp.experts.255.down_proj.weight"), "model.layers.3.mlp.experts.255.down_proj.weight");
}

TEST(LayerNames, ReadTheLayerIndexBackOnlyFromDecoderLayerNames) {
  EXPECT_EQ(layer_index_of("model.layers.12.mlp.gate"), 12);
  EXPECT_EQ(layer_index_of("model.layers.0.input_layernorm.weight"), 0);
  EXPECT_EQ(layer_index_of(layer_module_name(61, "self_attn.kv_a_proj_with_mqa.weight_scale_inv")), 61);
  for (const char* other : {"lm_head.weight", "model.norm.weight", "model.layers", "model.layers.", "model.layers.3",
                            "model.layers..q", "model.layers.-1.q", "model.layers.1x.q", "model.layers.1234567890.q",
                            "xmodel.layers.1.q"}) {
    EXPECT_FALSE(layer_index_of(other).has_value()) << other;
  }
  EXPECT_TRUE(in_decoder_layers("model.layers.7.mlp"));
  EXPECT_FALSE(in_decoder_layers("model.embed_tokens.weight"));
}

TEST(NameAffixes, MatchTheirDefinitions) {
  EXPECT_TRUE(ends_with("a.weight_scale", ".weight_scale"));
  EXPECT_TRUE(ends_with("x", ""));
  EXPECT_TRUE(ends_with(".weight", ".weight"));
  EXPECT_FALSE(ends_with("weight", ".weight"));
  EXPECT_FALSE(ends_with("a.weight_scale", ".weight"));
  EXPECT_TRUE(starts_with("quant_stage", "quant"));
  EXPECT_FALSE(starts_with("qu", "quant"));
  EXPECT_FALSE(starts_with("xquant", "quant"));
}

}  // namespace
}  // namespace dcomp::io
