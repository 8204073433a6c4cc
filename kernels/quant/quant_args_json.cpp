// Quantization arguments and schemes in the JSON layout compressed-tensors writes and reads:
// typed field readers, enum names, the defaults older checkpoints leave out.
//
// reference: compressed-tensors src/compressed_tensors/quantization/quant_args.py
// (field validators, zp_dtype serializer), quant_scheme.py (QuantizationScheme validator).
#include "kernels/quant/quant_args.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "kernels/quant/element_formats.hpp"
#include "kernels/quant/quant_args_validation.hpp"

namespace dcomp::quant {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

[[noreturn]] void fail(const std::string& where, const std::string& problem) {
  throw QuantConfigError(where + ": " + problem);
}

std::string describe(const nlohmann::json& value) { return value.dump(); }

// ---- enum names ------------------------------------------------------------------

Strategy strategy_from_name(const std::string& text, const std::string& where) {
  const std::string name = lowercase(text);
  if (name == "tensor") return Strategy::Tensor;
  if (name == "channel") return Strategy::Channel;
  if (name == "group") return Strategy::Group;
  if (name == "block") return Strategy::Block;
  if (name == "token") return Strategy::Token;
  if (name == "tensor_group") return Strategy::TensorGroup;
  if (name == "attn_head") {
    fail(where + ".strategy", "\"" + text + "\" (attention-head quantization) is not supported");
  }
  fail(where + ".strategy",
       "unknown value \"" + text + "\" (known: tensor, channel, group, block, token, tensor_group, attn_head)");
}

QuantType type_from_name(const std::string& text, const std::string& where) {
  const std::string name = lowercase(text);
  if (name == "int") return QuantType::Int;
  if (name == "float") return QuantType::Float;
  fail(where + ".type", "unknown value \"" + text + "\" (known: int, float)");
}

std::string canonical_actorder_literal(ActOrder order) {
  switch (order) {
    case ActOrder::Static: return "static";
    case ActOrder::Group: return "group";
    case ActOrder::None: break;
  }
  return "";
}

// ---- typed field readers ------------------------------------------------------------

int read_int(const nlohmann::json& value, const std::string& field) {
  if (value.is_number_integer()) return value.get<int>();
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (std::floor(number) == number && std::fabs(number) < 1e9) return static_cast<int>(number);
  }
  fail(field, "expected an integer, got " + describe(value));
}

bool read_bool(const nlohmann::json& value, const std::string& field) {
  if (value.is_boolean()) return value.get<bool>();
  fail(field, "expected true or false, got " + describe(value));
}

std::string read_string(const nlohmann::json& value, const std::string& field) {
  if (value.is_string()) return value.get<std::string>();
  fail(field, "expected a string, got " + describe(value));
}

std::vector<int> read_block_structure(const nlohmann::json& value, const std::string& field) {
  std::vector<int> dims;
  if (value.is_string()) {  // the legacy "RxC" spelling
    const std::string text = value.get<std::string>();
    const auto cross = text.find('x');
    try {
      if (cross == std::string::npos) throw std::invalid_argument(text);
      size_t used_rows = 0, used_cols = 0;
      const std::string rows = text.substr(0, cross), cols = text.substr(cross + 1);
      dims = {std::stoi(rows, &used_rows), std::stoi(cols, &used_cols)};
      if (used_rows != rows.size() || used_cols != cols.size()) throw std::invalid_argument(text);
    } catch (const std::exception&) {
      fail(field, "expected [rows, cols] or \"RxC\", got " + describe(value));
    }
  } else if (value.is_array()) {
    for (const auto& item : value) dims.push_back(read_int(item, field));
  } else {
    fail(field, "expected [rows, cols], got " + describe(value));
  }
  if (dims.size() != 2) fail(field, "expected two dimensions [rows, cols], got " + describe(value));
  return dims;
}

// Floating scale dtypes only restate the scale tensor's own dtype (Native); FP8 scales are
// NVFP4's, uint8 (E8M0 exponents) the MX formats'.
ScaleDType read_scale_dtype(const nlohmann::json& value, const std::string& field) {
  if (value.is_null()) return ScaleDType::Native;
  const std::string name = read_string(value, field);
  static const std::set<std::string> floating{"torch.float16", "torch.bfloat16", "torch.float32", "torch.float64",
                                              "torch.half",    "torch.float",    "torch.double"};
  if (floating.count(name)) return ScaleDType::Native;
  if (name == "torch.float8_e4m3fn") return ScaleDType::Fp8E4m3;
  if (name == "torch.uint8") return ScaleDType::E8M0;
  fail(field, "\"" + name + "\" is not a scale dtype dcomp supports (null, a float dtype, torch.float8_e4m3fn "
              "for NVFP4, torch.uint8 for MXFP4)");
}

const std::set<std::string>& known_args_fields() {
  static const std::set<std::string> fields{"num_bits", "type",     "symmetric", "group_size", "strategy",
                                            "block_structure", "dynamic", "actorder", "observer", "observer_kwargs",
                                            "scale_dtype",     "zp_dtype"};
  return fields;
}

std::string joined(const std::set<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

}  // namespace

nlohmann::json to_json(const QuantizationArgs& args) {
  nlohmann::json json = nlohmann::json::object();
  if (args.actorder == ActOrder::None) {
    json["actorder"] = nullptr;
  } else if (!args.actorder_literal.empty() && actorder_from_name(args.actorder_literal) == args.actorder) {
    json["actorder"] = args.actorder_literal;
  } else {
    json["actorder"] = canonical_actorder_literal(args.actorder);
  }
  json["block_structure"] = args.block_structure ? nlohmann::json(*args.block_structure) : nlohmann::json(nullptr);
  json["dynamic"] = args.local_dynamic ? nlohmann::json("local") : nlohmann::json(args.dynamic);
  json["group_size"] = args.group_size ? nlohmann::json(*args.group_size) : nlohmann::json(nullptr);
  json["num_bits"] = args.num_bits;
  // As compressed-tensors resolves it: none for dynamic, memoryless_minmax by default;
  // locally dynamic activations keep the observer of their global scale.
  if (args.local_dynamic) {
    json["observer"] = args.observer.value_or("static_minmax");
  } else if (args.dynamic) {
    json["observer"] = nullptr;
  } else {
    json["observer"] = args.observer.value_or("memoryless_minmax");
  }
  json["observer_kwargs"] = args.observer_kwargs.is_object() ? args.observer_kwargs : nlohmann::json::object();
  const char* scale_dtype = scale_dtype_name(args.scale_dtype);
  json["scale_dtype"] = scale_dtype ? nlohmann::json(scale_dtype) : nlohmann::json(nullptr);
  json["strategy"] = to_string(args.resolved_strategy());
  json["symmetric"] = args.symmetric;
  json["type"] = to_string(args.type);
  if (args.symmetric) {
    json["zp_dtype"] = nullptr;
  } else {
    json["zp_dtype"] = args.type == QuantType::Int ? "torch.int8" : "torch.float8_e4m3fn";
  }
  return json;
}

QuantizationArgs args_from_json(const nlohmann::json& json, const std::string& where) {
  if (!json.is_object()) fail(where, "expected an object of quantization arguments, got " + describe(json));
  for (const auto& item : json.items()) {
    if (!known_args_fields().count(item.key())) {
      fail(where, "unknown field \"" + item.key() + "\" (known: " + joined(known_args_fields()) + ")");
    }
  }
  const auto field = [&](const char* name) { return where + "." + name; };
  const auto present = [&](const char* name) { return json.contains(name) && !json.at(name).is_null(); };

  QuantizationArgs args;
  if (present("num_bits")) args.num_bits = read_int(json.at("num_bits"), field("num_bits"));
  if (present("type")) args.type = type_from_name(read_string(json.at("type"), field("type")), where);
  if (present("symmetric")) args.symmetric = read_bool(json.at("symmetric"), field("symmetric"));
  if (present("group_size")) args.group_size = read_int(json.at("group_size"), field("group_size"));
  if (present("strategy")) args.strategy = strategy_from_name(read_string(json.at("strategy"), field("strategy")), where);
  if (present("block_structure")) {
    args.block_structure = read_block_structure(json.at("block_structure"), field("block_structure"));
  }
  if (present("dynamic")) {
    const auto& dynamic = json.at("dynamic");
    if (dynamic.is_string() && lowercase(dynamic.get<std::string>()) == "local") {
      args.dynamic = true;
      args.local_dynamic = true;
    } else {
      args.dynamic = read_bool(dynamic, field("dynamic"));
    }
  }
  if (present("actorder")) {
    const auto& order = json.at("actorder");
    if (order.is_boolean()) {  // true was the original spelling of group ordering
      args.actorder = order.get<bool>() ? ActOrder::Group : ActOrder::None;
      args.actorder_literal = order.get<bool>() ? "group" : "";
    } else {
      const std::string literal = lowercase(read_string(order, field("actorder")));
      args.actorder = actorder_from_name(literal);
      if (args.actorder == ActOrder::None) {
        fail(field("actorder"), "unknown value \"" + literal + "\" (known: group, weight, static, dynamic, null)");
      }
      args.actorder_literal = literal;
    }
  }
  if (present("observer")) args.observer = read_string(json.at("observer"), field("observer"));
  if (present("observer_kwargs")) {
    if (!json.at("observer_kwargs").is_object()) fail(field("observer_kwargs"), "expected an object");
    args.observer_kwargs = json.at("observer_kwargs");
  }
  if (json.contains("scale_dtype")) args.scale_dtype = read_scale_dtype(json.at("scale_dtype"), field("scale_dtype"));
  // An element format that needs a group layout (FP4), given without scale_dtype, gets the dtype
  // its layout stores the scales in.
  if (!args.traits().native_scales && args.scale_dtype == ScaleDType::Native) {
    args.scale_dtype = default_scale_dtype(args);
  }
  if (present("zp_dtype")) read_string(json.at("zp_dtype"), field("zp_dtype"));

  // compressed-tensors' defaults: dynamic arguments have no observer; static ones
  // default to memoryless_minmax (older checkpoints spell theirs out, e.g. "minmax").
  if (args.local_dynamic) {
    if (!args.observer) args.observer = "static_minmax";
  } else if (args.dynamic) {
    args.observer.reset();
  } else if (!args.observer) {
    args.observer = "memoryless_minmax";
  }
  validate_quantization_args(args, where);
  return args;
}

nlohmann::json to_json(const QuantizationScheme& scheme) {
  const auto optional_args = [](const std::optional<QuantizationArgs>& args) {
    return args ? to_json(*args) : nlohmann::json(nullptr);
  };
  nlohmann::json json = nlohmann::json::object();
  json["format"] = scheme.format ? nlohmann::json(*scheme.format) : nlohmann::json(nullptr);
  json["input_activations"] = optional_args(scheme.input_activations);
  json["output_activations"] = optional_args(scheme.output_activations);
  json["targets"] = scheme.targets;
  json["weights"] = optional_args(scheme.weights);
  return json;
}

QuantizationScheme scheme_from_json(const nlohmann::json& json, const std::string& where) {
  if (!json.is_object()) fail(where, "expected an object with targets and weights/activations, got " + describe(json));
  static const std::set<std::string> known{"targets", "weights", "input_activations", "output_activations", "format"};
  for (const auto& item : json.items()) {
    if (!known.count(item.key())) fail(where, "unknown field \"" + item.key() + "\" (known: " + joined(known) + ")");
  }
  QuantizationScheme scheme;
  if (!json.contains("targets")) fail(where, "missing \"targets\"");
  const auto& targets = json.at("targets");
  if (targets.is_string()) {
    scheme.targets = {targets.get<std::string>()};
  } else if (targets.is_array()) {
    for (const auto& target : targets) scheme.targets.push_back(read_string(target, where + ".targets"));
  } else {
    fail(where + ".targets", "expected a list of module names, classes or \"re:\" patterns, got " + describe(targets));
  }
  const auto optional_args = [&](const char* name) -> std::optional<QuantizationArgs> {
    if (!json.contains(name) || json.at(name).is_null()) return std::nullopt;
    return args_from_json(json.at(name), where + "." + name);
  };
  scheme.weights = optional_args("weights");
  scheme.input_activations = optional_args("input_activations");
  scheme.output_activations = optional_args("output_activations");
  if (json.contains("format") && !json.at("format").is_null()) {
    scheme.format = read_string(json.at("format"), where + ".format");
    if (*scheme.format == "mixed-precision") {
      fail(where + ".format", "\"mixed-precision\" describes a whole model, not one config group");
    }
  }
  for (const auto* activations : {&scheme.input_activations, &scheme.output_activations}) {
    if (*activations && (*activations)->actorder != ActOrder::None) {
      fail(where, "activation ordering applies to weights only, not to activations");
    }
  }
  if (scheme.input_activations) {
    const Strategy strategy = scheme.input_activations->resolved_strategy();
    if (strategy != Strategy::Token && strategy != Strategy::Tensor && !is_grouped(strategy)) {
      fail(where + ".input_activations", "strategy " + to_string(strategy) + " is not supported for activations");
    }
  }
  return scheme;
}

// ---- fields ----------------------------------------------------------------------------

const std::set<std::string>& quantization_args_fields() { return known_args_fields(); }

}  // namespace dcomp::quant
