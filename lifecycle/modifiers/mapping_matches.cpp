// reference: llm-compressor src/llmcompressor/modifiers/transform/smoothquant/base.py
// (_resolve_mappings), modifiers/transform/awq/base.py (_set_resolved_mappings).
#include "lifecycle/modifiers/mapping_matches.hpp"

#include <algorithm>

#include "lifecycle/enclosing_modules.hpp"
#include "lifecycle/errors.hpp"
#include "lifecycle/target_match.hpp"
#include "kernels/io/layer_names.hpp"

namespace dcomp::lifecycle {
namespace {

bool has_class(const ModuleInfo& module, const std::string& name) {
  return std::find(module.class_names.begin(), module.class_names.end(), name) != module.class_names.end();
}

bool in_decoder_layer(const ModuleInfo& module) { return io::in_decoder_layers(module.name); }

std::string comma_separated(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

}  // namespace

MappingMatches match_mapping(const ModelHandle& model, const std::string& smooth, const std::vector<std::string>& balance,
                             bool smooth_may_be_linear) {
  MappingMatches matches;
  for (const ModuleInfo& module : model.modules()) {
    if (!in_decoder_layer(module)) continue;
    // As the layers see them: norms by name with class RMSNorm, Linears through linear_module_info.
    const bool norm = has_class(module, "RMSNorm");
    const ModuleInfo seen = norm ? ModuleInfo{module.name, {"RMSNorm"}, 0, 0}
                                 : linear_module_info(module.name, 0, 0, model.architecture());
    if ((norm || smooth_may_be_linear) && target_matches(seen, smooth)) matches.smooth.push_back(module.name);
    if (!norm && any_target_matches(seen, balance)) matches.balance.push_back(module.name);
  }
  return matches;
}

std::string describe_mapping(const std::string& smooth, const std::vector<std::string>& balance) {
  return "[" + comma_separated(balance) + "] <- " + smooth;
}

void require_mapping_matches(const MappingMatches& matches, const std::string& where, const std::string& modifier,
                             const std::string& smooth, const std::vector<std::string>& balance,
                             bool smooth_may_be_linear) {
  const std::string prefix = where + ": " + modifier + " mapping " + describe_mapping(smooth, balance) + ": ";
  if (matches.smooth.empty()) {
    throw RecipeError(prefix + "the smooth layer '" + smooth + "' matches no " +
                      (smooth_may_be_linear ? "norm or Linear" : "norm") +
                      " of a decoder layer (names such as model.layers.0.input_layernorm, or 're:' patterns)");
  }
  if (matches.balance.empty()) {
    throw RecipeError(prefix + "the balance layers match no Linear of a decoder layer (names such as "
                      "model.layers.0.self_attn.q_proj, or 're:' patterns)");
  }
}

}  // namespace dcomp::lifecycle
