// reference: see fused_scheme_check.hpp.
#include "lifecycle/modifiers/fused_scheme_check.hpp"

#include <map>

#include <nlohmann/json.hpp>

#include "lifecycle/errors.hpp"

namespace dcomp::lifecycle {
namespace {

// What vLLM compares between a fused Linear's shards: the scheme without the targets that chose it.
std::string scheme_text(const std::optional<quant::QuantizationScheme>& scheme) {
  if (!scheme) return "not quantized";
  nlohmann::json json = quant::to_json(*scheme);
  json.erase("targets");
  return json.dump();
}

}  // namespace

void refuse_mixed_fused_schemes(const ModelHandle& model,
                                const std::function<std::optional<quant::QuantizationScheme>(const ModuleInfo&)>& scheme_of,
                                const std::string& where) {
  std::map<std::string, ModuleInfo> modules;
  for (const auto& module : model.modules()) modules.emplace(module.name, module);
  for (const auto& group : model.fused_groups()) {
    std::string first_text;
    for (const auto& name : group) {
      const auto found = modules.find(name);
      if (found == modules.end()) continue;
      const std::string text = scheme_text(scheme_of(found->second));
      if (name == group.front()) {
        first_text = text;
        continue;
      }
      if (text == first_text) continue;
      throw RecipeError(where + ": " + group.front() + " and " + name +
                        " are run as one fused Linear by vLLM, so they must be quantized alike, but this recipe gives " +
                        group.front() + " " + first_text + " and " + name + " " + text +
                        " (give them the same scheme, or ignore both)");
    }
  }
}

}  // namespace dcomp::lifecycle
