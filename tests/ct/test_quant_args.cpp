// QuantizationArgs / QuantizationScheme JSON against the compressed-tensors layouts:
// the current (CT 0.18) config of reference-llm-compressor.md §6.5, older layouts
// (observer "minmax", actorder null, no format / scale_dtype / zp_dtype) and the
// CT 0.20 layout that omits null fields.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kernels/ct/quantization_config.hpp"
#include "kernels/quant/quant_args.hpp"

namespace dcomp::quant {
namespace {

// The §6.5 example: GPTQModifier(targets="Linear", scheme="W4A16", ignore=["lm_head"]).
constexpr const char* kGptqW4A16Config = R"({
  "config_groups": {
    "group_0": {
      "format": "pack-quantized",
      "input_activations": null,
      "output_activations": null,
      "targets": ["Linear"],
      "weights": {
        "actorder": "static",
        "block_structure": null,
        "dynamic": false,
        "group_size": 128,
        "num_bits": 4,
        "observer": "memoryless_minmax",
        "observer_kwargs": {},
        "scale_dtype": null,
        "strategy": "group",
        "symmetric": true,
        "type": "int",
        "zp_dtype": null
      }
    }
  },
  "format": "pack-quantized",
  "global_compression_ratio": null,
  "ignore": ["lm_head"],
  "kv_cache_scheme": null,
  "quant_method": "compressed-tensors",
  "quantization_status": "compressed",
  "sparsity_config": {},
  "transform_config": {},
  "version": "0.18.0"
})";

// An older checkpoint's config (CT < 0.11: no format, scale_dtype or zp_dtype fields,
// observer "minmax", actorder null, a numeric compression ratio).
constexpr const char* kOldStyleConfig = R"({
  "config_groups": {
    "group_0": {
      "input_activations": null,
      "output_activations": null,
      "targets": ["Linear"],
      "weights": {
        "actorder": null,
        "block_structure": null,
        "dynamic": false,
        "group_size": 32,
        "num_bits": 4,
        "observer": "minmax",
        "observer_kwargs": {},
        "strategy": "group",
        "symmetric": true,
        "type": "int"
      }
    }
  },
  "format": "pack-quantized",
  "global_compression_ratio": 1.5943962512751309,
  "ignore": ["lm_head"],
  "kv_cache_scheme": null,
  "quant_method": "compressed-tensors",
  "quantization_status": "compressed"
})";

TEST(QuantArgs, W4A16PresetWithGptqActorderEqualsPublishedConfig) {
  QuantizationScheme scheme = preset_scheme("W4A16", {"Linear"});
  scheme.weights->actorder = ActOrder::Static;  // GPTQModifier's default since llm-compressor 0.8
  const nlohmann::json built = ct::build_quantization_config({{"group_0", scheme}}, {"lm_head"});
  const nlohmann::json expected = nlohmann::json::parse(kGptqW4A16Config);
  for (const auto& item : expected.items()) {
    ASSERT_TRUE(built.contains(item.key())) << item.key();
    EXPECT_EQ(built.at(item.key()), item.value()) << item.key();
  }
  const auto& weights = expected["config_groups"]["group_0"]["weights"];
  const nlohmann::json written = to_json(*scheme.weights);
  for (const auto& field : weights.items()) {
    EXPECT_EQ(written.at(field.key()), field.value()) << "weights." << field.key();
  }
  EXPECT_EQ(built.size(), expected.size());
}

TEST(QuantArgs, PublishedConfigRoundTrips) {
  const nlohmann::json expected = nlohmann::json::parse(kGptqW4A16Config);
  const auto config = ct::QuantizationConfig::from_json(expected, "config");
  ASSERT_EQ(config.groups.size(), 1u);
  const QuantizationScheme& scheme = config.groups[0].second;
  ASSERT_TRUE(scheme.weights);
  EXPECT_EQ(scheme.weights->num_bits, 4);
  EXPECT_EQ(scheme.weights->group_size, 128);
  EXPECT_EQ(scheme.weights->actorder, ActOrder::Static);
  EXPECT_EQ(scheme.format, std::optional<std::string>("pack-quantized"));
  EXPECT_EQ(to_json(scheme), expected["config_groups"]["group_0"]);
  EXPECT_EQ(config.ignore, std::vector<std::string>{"lm_head"});
}

TEST(QuantArgs, ParsesOldStyleConfig) {
  const auto config = ct::QuantizationConfig::from_json(nlohmann::json::parse(kOldStyleConfig), "old config");
  ASSERT_EQ(config.groups.size(), 1u);
  const QuantizationArgs& weights = *config.groups[0].second.weights;
  EXPECT_EQ(weights.observer, std::optional<std::string>("minmax"));
  EXPECT_EQ(weights.actorder, ActOrder::None);
  EXPECT_EQ(weights.resolved_strategy(), Strategy::Group);
  EXPECT_EQ(weights.group_size, 32);
  EXPECT_FALSE(config.groups[0].second.format);
  EXPECT_EQ(config.format, "pack-quantized");
  EXPECT_EQ(config.format_for("model.layers.0.mlp.down_proj"), "pack-quantized");
  EXPECT_EQ(config.format_for("lm_head"), "dense");
  // Written back in the current layout: the observer stays, zp_dtype/scale_dtype appear.
  const nlohmann::json written = to_json(weights);
  EXPECT_EQ(written.at("observer"), "minmax");
  EXPECT_TRUE(written.at("zp_dtype").is_null());
  EXPECT_TRUE(written.at("scale_dtype").is_null());
}

TEST(QuantArgs, ParsesLayoutThatOmitsNullFields) {
  // compressed-tensors 0.20 drops null / default fields when serializing.
  const auto args = args_from_json(
      nlohmann::json::parse(R"({"num_bits": 8, "type": "int", "symmetric": false, "group_size": -1,
                                "strategy": "channel", "dynamic": false})"),
      "weights");
  EXPECT_EQ(args.resolved_strategy(), Strategy::Channel);
  EXPECT_FALSE(args.symmetric);
  EXPECT_EQ(args.observer, std::optional<std::string>("memoryless_minmax"));
  EXPECT_EQ(to_json(args).at("zp_dtype"), "torch.int8");
}

TEST(QuantArgs, InfersStrategyFromGroupSize) {
  EXPECT_EQ(args_from_json({{"num_bits", 4}}, "w").resolved_strategy(), Strategy::Tensor);
  EXPECT_EQ(args_from_json({{"num_bits", 4}, {"group_size", 64}}, "w").resolved_strategy(), Strategy::Group);
  EXPECT_EQ(args_from_json({{"num_bits", 4}, {"group_size", -1}}, "w").resolved_strategy(), Strategy::Channel);
  EXPECT_EQ(to_json(args_from_json({{"num_bits", 4}, {"group_size", 64}}, "w")).at("strategy"), "group");
}

TEST(QuantArgs, AcceptsActorderSpellings) {
  const auto parse = [](const nlohmann::json& actorder) {
    return args_from_json({{"num_bits", 4}, {"group_size", 128}, {"actorder", actorder}}, "w");
  };
  EXPECT_EQ(parse("weight").actorder, ActOrder::Static);
  EXPECT_EQ(to_json(parse("weight")).at("actorder"), "weight");
  EXPECT_EQ(parse("STATIC").actorder, ActOrder::Static);
  EXPECT_EQ(parse("dynamic").actorder, ActOrder::Group);
  EXPECT_EQ(parse(true).actorder, ActOrder::Group);
  EXPECT_EQ(parse(false).actorder, ActOrder::None);
  EXPECT_EQ(parse(nullptr).actorder, ActOrder::None);
  EXPECT_THROW(parse("sideways"), QuantConfigError);
}

TEST(QuantArgs, DynamicArgumentsHaveNoObserver) {
  const auto args = args_from_json(
      {{"num_bits", 8}, {"strategy", "token"}, {"dynamic", true}, {"observer", "memoryless"}}, "input_activations");
  EXPECT_FALSE(args.observer);
  EXPECT_TRUE(to_json(args).at("observer").is_null());
}

TEST(QuantArgs, AcceptsLegacyBlockStructureString) {
  const auto args = args_from_json(
      {{"num_bits", 8}, {"type", "float"}, {"strategy", "block"}, {"block_structure", "128x64"}}, "w");
  EXPECT_EQ(args.block_structure, (std::vector<int>{128, 64}));
  EXPECT_EQ(to_json(args).at("block_structure"), nlohmann::json({128, 64}));
}

TEST(QuantArgs, RejectsInvalidArgumentsNamingTheField) {
  const auto message_of = [](const nlohmann::json& json) -> std::string {
    try {
      args_from_json(json, "config_groups.group_0.weights");
    } catch (const QuantConfigError& error) {
      return error.what();
    }
    return "";
  };
  EXPECT_NE(message_of({{"type", "complex"}}).find("group_0.weights.type"), std::string::npos);
  EXPECT_NE(message_of({{"strategy", "diagonal"}}).find("strategy"), std::string::npos);
  EXPECT_NE(message_of({{"strategy", "tensor_group"}, {"group_size", 16}}).find("needs FP4"), std::string::npos);
  EXPECT_NE(message_of({{"num_bits", 4}, {"symetric", true}}).find("unknown field \"symetric\""), std::string::npos);
  EXPECT_NE(message_of({{"strategy", "group"}}).find("group_size"), std::string::npos);
  EXPECT_NE(message_of({{"strategy", "token"}}).find("dynamic"), std::string::npos);
  EXPECT_NE(message_of({{"strategy", "channel"}, {"group_size", 128}}).find("group_size"), std::string::npos);
  EXPECT_NE(message_of({{"num_bits", 12}}).find("num_bits"), std::string::npos);
  EXPECT_NE(message_of({{"num_bits", 4}, {"type", "float"}}).find("FP4 needs the NVFP4 layout"), std::string::npos);
  EXPECT_NE(message_of({{"num_bits", 6}, {"type", "float"}}).find("num_bits"), std::string::npos);
  EXPECT_NE(message_of({{"group_size", -3}}).find("group_size"), std::string::npos);
  EXPECT_NE(message_of({{"strategy", "channel"}, {"actorder", "group"}}).find("actorder"), std::string::npos);
  EXPECT_NE(message_of({{"scale_dtype", "torch.float8_e4m3fn"}}).find("scale_dtype"), std::string::npos);
  EXPECT_NE(message_of({{"dynamic", "local"}}).find("local"), std::string::npos);
  EXPECT_NE(message_of({{"scale_dtype", "torch.int32"}}).find("scale_dtype"), std::string::npos);
  EXPECT_NE(message_of({{"num_bits", "four"}}).find("num_bits"), std::string::npos);
  EXPECT_TRUE(message_of({{"scale_dtype", "torch.bfloat16"}, {"zp_dtype", "torch.int8"}, {"symmetric", false}})
                  .empty());
}

// The FP4 layouts compressed-tensors 0.19 defines (quant_scheme.py: NVFP4A16, NVFP4, MXFP4A16,
// MXFP4) round-trip through JSON as upstream writes them, and impossible variants are refused
// naming the field.
TEST(QuantArgs, Fp4PresetsAndTheirJson) {
  const QuantizationScheme nvfp4 = preset_scheme("NVFP4", {"Linear"});
  ASSERT_TRUE(nvfp4.weights && nvfp4.input_activations);
  const nlohmann::json weights = to_json(*nvfp4.weights);
  EXPECT_EQ(weights.at("strategy"), "tensor_group");
  EXPECT_EQ(weights.at("group_size"), 16);
  EXPECT_EQ(weights.at("scale_dtype"), "torch.float8_e4m3fn");
  EXPECT_TRUE(weights.at("zp_dtype").is_null());
  const nlohmann::json inputs = to_json(*nvfp4.input_activations);
  EXPECT_EQ(inputs.at("dynamic"), "local");
  EXPECT_EQ(inputs.at("observer"), "static_minmax");
  const QuantizationArgs reread = args_from_json(inputs, "input_activations");
  EXPECT_TRUE(reread.dynamic && reread.local_dynamic);
  EXPECT_EQ(to_json(reread), inputs);

  const QuantizationScheme mxfp4 = preset_scheme("MXFP4A16", {"Linear"});
  ASSERT_TRUE(mxfp4.weights && !mxfp4.input_activations);
  EXPECT_EQ(to_json(*mxfp4.weights).at("scale_dtype"), "torch.uint8");
  EXPECT_EQ(to_json(*mxfp4.weights).at("strategy"), "group");
  EXPECT_EQ(mxfp4.weights->q_max(), 6.0);
  // An FP4 layout written without scale_dtype gets the dtype its format stores.
  EXPECT_EQ(args_from_json({{"num_bits", 4}, {"type", "float"}, {"strategy", "tensor_group"}, {"group_size", 16}}, "w")
                .scale_dtype,
            ScaleDType::Fp8E4m3);
}

TEST(QuantArgs, RejectsImpossibleFp4Layouts) {
  const auto message_of = [](nlohmann::json json) -> std::string {
    json["num_bits"] = 4;
    json["type"] = "float";
    try {
      args_from_json(json, "config_groups.group_0.weights");
    } catch (const QuantConfigError& error) {
      return error.what();
    }
    return "";
  };
  EXPECT_NE(message_of({{"strategy", "tensor_group"}, {"group_size", 16}, {"symmetric", false}})
                .find("group_0.weights.symmetric: FP4"),
            std::string::npos);
  EXPECT_NE(message_of({{"strategy", "tensor_group"}, {"group_size", 32}}).find("group_size 32"), std::string::npos);
  EXPECT_NE(message_of({{"strategy", "group"}, {"group_size", 16}}).find("strategy group, group_size 16"),
            std::string::npos);
  EXPECT_NE(message_of({{"strategy", "channel"}}).find("FP4 needs"), std::string::npos);
  EXPECT_NE(message_of({{"strategy", "tensor_group"}, {"group_size", 16}, {"dynamic", true}}).find("local"),
            std::string::npos);
  EXPECT_NE(message_of({{"strategy", "group"}, {"group_size", 32}, {"dynamic", "local"}}).find("tensor_group"),
            std::string::npos);
  EXPECT_TRUE(message_of({{"strategy", "tensor_group"}, {"group_size", 16}, {"dynamic", "local"}}).empty());
  EXPECT_TRUE(message_of({{"strategy", "group"}, {"group_size", 32}, {"scale_dtype", "torch.uint8"}}).empty());
}

TEST(QuantArgs, Ranges) {
  QuantizationArgs int4;
  int4.num_bits = 4;
  EXPECT_EQ(int4.q_min(), -8.0);
  EXPECT_EQ(int4.q_max(), 7.0);
  QuantizationArgs int8;
  EXPECT_EQ(int8.q_min(), -128.0);
  EXPECT_EQ(int8.q_max(), 127.0);
  QuantizationArgs fp8;
  fp8.type = QuantType::Float;
  EXPECT_EQ(fp8.q_min(), -448.0);
  EXPECT_EQ(fp8.q_max(), 448.0);
}

TEST(QuantArgs, PresetsFollowCompressedTensors018) {
  const auto w8a16 = preset_scheme("W8A16", {"Linear"});
  EXPECT_EQ(w8a16.weights->resolved_strategy(), Strategy::Group);  // group 128 since CT 0.18
  EXPECT_EQ(w8a16.weights->group_size, 128);
  EXPECT_FALSE(w8a16.input_activations);

  const auto w8a8 = preset_scheme("w8a8", {"Linear"});  // names are case-insensitive
  EXPECT_EQ(w8a8.weights->resolved_strategy(), Strategy::Channel);
  EXPECT_EQ(to_json(*w8a8.weights).at("group_size"), nullptr);
  ASSERT_TRUE(w8a8.input_activations);
  EXPECT_EQ(to_json(*w8a8.input_activations),
            nlohmann::json::parse(R"({"actorder": null, "block_structure": null, "dynamic": true, "group_size": null,
              "num_bits": 8, "observer": null, "observer_kwargs": {}, "scale_dtype": null, "strategy": "token",
              "symmetric": true, "type": "int", "zp_dtype": null})"));
  EXPECT_EQ(to_json(preset_scheme("INT8", {"Linear"})), to_json(w8a8));

  const auto asym = preset_scheme("W4A16_ASYM", {"Linear"});
  EXPECT_FALSE(asym.weights->symmetric);
  EXPECT_EQ(to_json(*asym.weights).at("zp_dtype"), "torch.int8");

  const auto fp8 = preset_scheme("FP8", {"Linear"});
  EXPECT_EQ(fp8.weights->type, QuantType::Float);
  EXPECT_EQ(fp8.weights->resolved_strategy(), Strategy::Tensor);
  EXPECT_FALSE(fp8.input_activations->dynamic);
  EXPECT_EQ(fp8.input_activations->observer, std::optional<std::string>("static_minmax"));

  const auto fp8_dynamic = preset_scheme("FP8_DYNAMIC", {"Linear"});
  EXPECT_EQ(fp8_dynamic.weights->resolved_strategy(), Strategy::Channel);
  EXPECT_EQ(fp8_dynamic.input_activations->resolved_strategy(), Strategy::Token);

  const auto w4a8 = preset_scheme("W4A8", {"Linear"});
  EXPECT_EQ(w4a8.weights->num_bits, 4);
  EXPECT_EQ(w4a8.input_activations->type, QuantType::Int);

  EXPECT_FALSE(preset_scheme("UNQUANTIZED", {"Linear"}).weights);
  for (const auto& name : preset_names()) {
    const auto scheme = preset_scheme(name, {"Linear"});
    for (const auto* args : {&scheme.weights, &scheme.input_activations}) {
      if (*args) {
        EXPECT_NO_THROW((*args)->validate()) << name;
      }
    }
    // Each preset survives the JSON round trip unchanged.
    EXPECT_EQ(to_json(scheme_from_json(to_json(scheme), name)), to_json(scheme)) << name;
  }
  try {
    preset_scheme("W3A5", {"Linear"});
    FAIL() << "unknown preset";
  } catch (const QuantConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("W4A16"), std::string::npos);
  }
}

TEST(QuantArgs, SchemeValidation) {
  EXPECT_THROW(scheme_from_json({{"weights", {{"num_bits", 4}}}}, "g"), QuantConfigError);  // no targets
  EXPECT_THROW(scheme_from_json({{"targets", {"Linear"}}, {"format", "mixed-precision"}}, "g"), QuantConfigError);
  EXPECT_THROW(scheme_from_json({{"targets", {"Linear"}}, {"extra", 1}}, "g"), QuantConfigError);
  EXPECT_THROW(scheme_from_json({{"targets", {"Linear"}},
                                 {"input_activations", {{"num_bits", 8}, {"strategy", "channel"}}}},
                                "g"),
               QuantConfigError);
  const auto preset_group = ct::QuantizationConfig::from_json(
      nlohmann::json::parse(R"({"config_groups": {"W8A8": ["Linear"]}, "format": "int-quantized"})"), "c");
  ASSERT_EQ(preset_group.groups.size(), 1u);
  EXPECT_EQ(to_json(preset_group.groups[0].second), to_json(preset_scheme("W8A8", {"Linear"})));
}

}  // namespace
}  // namespace dcomp::quant
