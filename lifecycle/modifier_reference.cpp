#include "lifecycle/modifier_reference.hpp"

#include <sstream>

#include "kernels/quant/element_formats.hpp"
#include "kernels/quant/quant_args.hpp"

namespace dcomp::lifecycle {
namespace {

std::string code_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "`" : ", `") + name + "`";
  return out.empty() ? "none" : out;
}

// "int4 group 128 symmetric", "fp8 token dynamic", ...
std::string describe_args(const quant::QuantizationArgs& args) {
  std::ostringstream out;
  out << (args.traits().is_float ? "fp" : "int") << args.num_bits << " "
      << quant::to_string(args.resolved_strategy());
  if (quant::is_grouped(args.resolved_strategy()) && args.group_size) out << " " << *args.group_size;
  if (args.block_structure) out << " " << (*args.block_structure)[0] << "x" << (*args.block_structure)[1];
  out << (args.symmetric ? " symmetric" : " asymmetric");
  if (args.scale_dtype == quant::ScaleDType::Fp8E4m3) out << ", fp8 scales";
  if (args.scale_dtype == quant::ScaleDType::E8M0) out << ", e8m0 scales";
  if (args.local_dynamic) {
    out << " dynamic (local, calibrated global scale)";
  } else if (args.dynamic) {
    out << " dynamic";
  }
  return out.str();
}

}  // namespace

std::string modifier_reference_markdown(const ModifierRegistry& registry) {
  std::ostringstream out;
  out << "| modifier | what it does | arguments accepted | arguments refused or ignored |\n"
      << "|---|---|---|---|\n";
  for (const ModifierDescription& modifier : registry.describe()) {
    std::string other;
    for (const auto& [key, reason] : modifier.refused) other += (other.empty() ? "`" : "; `") + key + "` " + reason;
    for (const auto& [key, why] : modifier.ignored) other += (other.empty() ? "`" : "; `") + key + "` ignored: " + why;
    out << "| `" << modifier.class_name << "` | " << modifier.what << " | " << code_list(modifier.accepted) << " | "
        << (other.empty() ? "none" : other) << " |\n";
  }
  out << "\nllm-compressor modifiers dcomp refuses, with the reason a recipe naming one gets:\n\n";
  for (const auto& [name, reason] : registry.unsupported()) out << "- `" << name << "`: " << reason << "\n";
  out << "\nPreset schemes (`scheme:` in a recipe):\n\n"
      << "| preset | weights | input activations |\n|---|---|---|\n";
  for (const std::string& name : quant::preset_names()) {
    const quant::QuantizationScheme scheme = quant::preset_scheme(name, {"Linear"});
    out << "| `" << name << "` | " << (scheme.weights ? describe_args(*scheme.weights) : "unquantized") << " | "
        << (scheme.input_activations ? describe_args(*scheme.input_activations) : "unquantized") << " |\n";
  }
  std::vector<std::string> fields(quant::quantization_args_fields().begin(), quant::quantization_args_fields().end());
  out << "\n`config_groups` give `targets` and `weights` / `input_activations` / `output_activations`, each with "
      << "the fields " << code_list(fields) << ".\n";
  return out.str();
}

}  // namespace dcomp::lifecycle
