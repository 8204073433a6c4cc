// Quantization arguments and schemes: strategy inference, validation and the JSON layout
// compressed-tensors writes and reads (the preset schemes: preset_schemes.cpp).
//
// reference: compressed-tensors src/compressed_tensors/quantization/quant_args.py
// (QuantizationArgs validators, model_validator "validate_model_after", zp_dtype
// serializer), quant_scheme.py (QuantizationScheme validator, PRESET_SCHEMES, v0.18.0
// where W8A16 is group-128).
#include "kernels/quant/quant_args.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

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

ActOrder actorder_from_name(const std::string& name) {
  if (name == "static" || name == "weight") return ActOrder::Static;
  if (name == "group" || name == "dynamic") return ActOrder::Group;
  return ActOrder::None;
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

const char* scale_dtype_name(ScaleDType dtype) {
  switch (dtype) {
    case ScaleDType::Fp8E4m3: return "torch.float8_e4m3fn";
    case ScaleDType::E8M0: return "torch.uint8";
    case ScaleDType::Native: break;
  }
  return nullptr;
}

// The FP4 layouts compressed-tensors and vLLM know: NVFP4 (tensor_group, groups of 16, FP8
// scales) and MXFP4 (group, groups of 32, E8M0 scales); no zero points.
void validate_fp4(const QuantizationArgs& args, Strategy strategy, const std::string& where) {
  if (!args.symmetric) {
    fail(where + ".symmetric", "FP4 (E2M1) quantization is symmetric only: asymmetric zero points cannot be "
                               "stored in the NVFP4 or MXFP4 formats");
  }
  const int group = args.group_size.value_or(0);
  const bool nvfp4 = strategy == Strategy::TensorGroup && group == 16 && args.scale_dtype == ScaleDType::Fp8E4m3;
  const bool mxfp4 = strategy == Strategy::Group && group == 32 && args.scale_dtype == ScaleDType::E8M0;
  if (!nvfp4 && !mxfp4) {
    fail(where, "FP4 needs the NVFP4 layout (strategy tensor_group, group_size 16, scale_dtype "
                "torch.float8_e4m3fn) or the MXFP4 layout (strategy group, group_size 32, scale_dtype torch.uint8); "
                "got strategy " + to_string(strategy) + ", group_size " +
                (args.group_size ? std::to_string(*args.group_size) : std::string("null")) + ", scale_dtype " +
                (scale_dtype_name(args.scale_dtype) ? scale_dtype_name(args.scale_dtype) : "null"));
  }
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

void validate_args(const QuantizationArgs& args, const std::string& where) {
  if (args.type == QuantType::Int && (args.num_bits < 1 || args.num_bits > 8)) {
    fail(where + ".num_bits", "integer quantization needs 1..8 bits, got " + std::to_string(args.num_bits));
  }
  if (args.type == QuantType::Float && args.num_bits != 8 && args.num_bits != 4) {
    fail(where + ".num_bits", "float quantization supports 8 bits (FP8 E4M3) and 4 bits (FP4 E2M1), got " +
                                  std::to_string(args.num_bits));
  }
  if (args.group_size && *args.group_size < -1) {
    fail(where + ".group_size", "invalid value " + std::to_string(*args.group_size) +
                                    ": use a positive size for strategy group, -1 for channel");
  }
  if (!args.strategy && args.group_size && *args.group_size == 0) {
    fail(where + ".group_size", "0 is invalid: use a positive size for strategy group, -1 for channel");
  }
  const Strategy strategy = args.resolved_strategy();
  const bool positive_group = args.group_size && *args.group_size > 0;
  if (is_grouped(strategy) && !positive_group) {
    fail(where, "strategy " + to_string(strategy) + " needs a positive group_size");
  }
  if (positive_group && !is_grouped(strategy)) {
    fail(where, "group_size " + std::to_string(*args.group_size) + " needs strategy group, not " + to_string(strategy));
  }
  if (args.is_fp4()) {
    validate_fp4(args, strategy, where);
  } else if (strategy == Strategy::TensorGroup) {
    fail(where + ".strategy", "tensor_group is NVFP4's strategy and needs FP4 values (type float, num_bits 4)");
  } else if (args.scale_dtype != ScaleDType::Native) {
    fail(where + ".scale_dtype", std::string("\"") + scale_dtype_name(args.scale_dtype) +
                                     "\" scales belong to the FP4 formats (NVFP4, MXFP4); " +
                                     std::to_string(args.num_bits) + "-bit " + to_string(args.type) +
                                     " quantization keeps its scales in the model dtype (scale_dtype null)");
  }
  if (args.local_dynamic && (!args.dynamic || strategy != Strategy::TensorGroup)) {
    fail(where + ".dynamic", "\"local\" needs strategy tensor_group (NVFP4 activations), not " + to_string(strategy));
  }
  if (strategy == Strategy::Block) {
    if (!args.block_structure) fail(where, "strategy block needs block_structure [rows, cols]");
    if (args.block_structure->size() != 2 || (*args.block_structure)[0] <= 0 || (*args.block_structure)[1] <= 0) {
      fail(where + ".block_structure", "expected two positive dimensions [rows, cols]");
    }
  } else if (args.block_structure) {
    fail(where, "block_structure needs strategy block, not " + to_string(strategy));
  }
  if (strategy == Strategy::Token && !args.dynamic) {
    fail(where, "strategy token is only possible with dynamic: true (static per-token scales cannot exist)");
  }
  if (args.dynamic && strategy != Strategy::Token && strategy != Strategy::Tensor && !is_grouped(strategy)) {
    fail(where, "dynamic quantization needs strategy token, tensor, group or tensor_group, not " + to_string(strategy));
  }
  if (strategy == Strategy::TensorGroup && args.dynamic && !args.local_dynamic) {
    fail(where + ".dynamic", "tensor_group activations are dynamic \"local\" (their global scale is calibrated), "
                             "not dynamic true");
  }
  if (args.actorder == ActOrder::Group && strategy != Strategy::Group) {
    fail(where + ".actorder", "\"group\" activation ordering needs strategy group, not " + to_string(strategy));
  }
  if (!args.actorder_literal.empty() && actorder_from_name(args.actorder_literal) != args.actorder) {
    fail(where + ".actorder", "literal \"" + args.actorder_literal + "\" contradicts the activation ordering set");
  }
  if (!args.observer_kwargs.is_object()) fail(where + ".observer_kwargs", "expected an object");
}

}  // namespace

// ---- QuantizationArgs ----------------------------------------------------------------

Strategy QuantizationArgs::resolved_strategy() const {
  if (strategy) return *strategy;
  if (!group_size) return Strategy::Tensor;
  if (*group_size > 0) return Strategy::Group;
  if (*group_size == -1) return Strategy::Channel;
  throw QuantConfigError("quantization args: group_size " + std::to_string(*group_size) +
                         " is invalid: use a positive size for strategy group, -1 for channel");
}

double QuantizationArgs::q_min() const { return -q_max() - (type == QuantType::Int ? 1.0 : 0.0); }

double QuantizationArgs::q_max() const {
  if (type == QuantType::Float) {
    if (num_bits == 4) return 6.0;  // largest E2M1 value
    if (num_bits != 8) {
      throw QuantConfigError("quantization args: float quantization supports 8 and 4 bits, got " +
                             std::to_string(num_bits));
    }
    return 448.0;  // largest finite float8_e4m3fn
  }
  if (num_bits < 1 || num_bits > 8) {
    throw QuantConfigError("quantization args: integer quantization needs 1..8 bits, got " + std::to_string(num_bits));
  }
  return std::ldexp(1.0, num_bits - 1) - 1.0;
}

void QuantizationArgs::validate() const { validate_args(*this, "quantization args"); }

std::string to_string(Strategy strategy) {
  switch (strategy) {
    case Strategy::Tensor: return "tensor";
    case Strategy::Channel: return "channel";
    case Strategy::Group: return "group";
    case Strategy::Block: return "block";
    case Strategy::Token: return "token";
    case Strategy::TensorGroup: return "tensor_group";
  }
  return "unknown";
}

std::string to_string(QuantType type) { return type == QuantType::Int ? "int" : "float"; }

// ---- JSON ----------------------------------------------------------------------------

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
  // An FP4 layout without scale_dtype gets the dtype its format stores the scales in.
  if (args.is_fp4() && args.scale_dtype == ScaleDType::Native) {
    if (args.resolved_strategy() == Strategy::TensorGroup) args.scale_dtype = ScaleDType::Fp8E4m3;
    if (args.resolved_strategy() == Strategy::Group && args.group_size == 32) args.scale_dtype = ScaleDType::E8M0;
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
  validate_args(args, where);
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
