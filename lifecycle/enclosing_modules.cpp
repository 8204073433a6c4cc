#include "lifecycle/enclosing_modules.hpp"

#include "kernels/model/architecture_description.hpp"
#include "lifecycle/errors.hpp"
#include "lifecycle/target_match.hpp"
#include "kernels/io/name_affixes.hpp"
#include "kernels/io/layer_names.hpp"

namespace dcomp::lifecycle {
namespace {

// "LlamaForCausalLM" → "Llama": the prefix transformers gives a family's module classes (the
// architecture's description, or the class name without its suffix for one the engine does not run).
std::string family_of(const std::string& architecture) {
  if (const model::ArchitectureDescription* described = model::find_architecture(architecture)) {
    return described->module_family;
  }
  const std::string suffix = "ForCausalLM";
  if (architecture.size() > suffix.size() && io::ends_with(architecture, suffix)) {
    return architecture.substr(0, architecture.size() - suffix.size());
  }
  return architecture;
}

bool is_layer_index(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}


// transformers' class of a sparse MLP block: MixtralSparseMoeBlock, Qwen3MoeSparseMoeBlock,
// DeepseekV3MoE, Glm4MoeMoE (the architecture's description).
std::string sparse_block_class(const std::string& architecture, const std::string& family) {
  const model::ArchitectureDescription* described = model::find_architecture(architecture);
  return described && !described->sparse_block_class.empty() ? described->sparse_block_class
                                                              : family + "SparseMoeBlock";
}

// Whether `linear_name` lies inside a sparse MLP block named "...mlp" (its router, experts or shared experts).
bool inside_sparse_mlp(const std::string& linear_name) {
  return linear_name.find(".mlp.experts.") != std::string::npos ||
         linear_name.find(".mlp.shared_experts.") != std::string::npos || io::ends_with(linear_name, ".mlp.gate");
}

}  // namespace

ModuleInfo linear_module_info(const std::string& name, int64_t in_features, int64_t out_features,
                              const std::string& architecture) {
  std::vector<std::string> classes{"Linear"};
  if (io::ends_with(name, ".block_sparse_moe.gate")) classes = {"MixtralTopKRouter"};
  if (io::ends_with(name, ".mlp.gate")) classes = {"Qwen3MoeTopKRouter"};
  const model::ArchitectureDescription* described = model::find_architecture(architecture);
  if (classes.front() != "Linear" && described && !described->router_class.empty()) {
    classes = {described->router_class};
  }
  return {name, std::move(classes), in_features, out_features};
}

ModuleInfo linear_module_info(const LinearModule& module) {
  const int64_t in = module.weight.defined() ? module.weight.size(1) : 0;
  const int64_t out = module.weight.defined() ? module.weight.size(0) : 0;
  if (module.class_names.empty()) return linear_module_info(module.name, in, out);
  return {module.name, module.class_names, in, out};
}

std::string decoder_layer_class(const std::string& architecture) { return family_of(architecture) + "DecoderLayer"; }

void refuse_unless_compressible(const std::string& modifier, const ModuleInfo& module) {
  // Linear-like: a Linear, or a mixture-of-experts router (its own class, a Linear's weight).
  bool linear_like = false;
  for (const auto& class_name : module.class_names) {
    linear_like = linear_like || class_name == "Linear" || io::ends_with(class_name, "TopKRouter") ||
                  io::ends_with(class_name, "TopkRouter");
  }
  if (linear_like && (io::in_decoder_layers(module.name) || module.name == kLmHead)) return;
  const std::string kind = module.class_names.empty() ? std::string("module") : module.class_names.front();
  throw RecipeError(modifier + ": its targets select " + module.name + " (" + kind +
                    "), which dcomp does not compress: it compresses Linear modules only (those of the "
                    "decoder layers, and lm_head); narrow the targets or add '" + module.name + "' to ignore");
}

std::vector<ModuleInfo> enclosing_modules(const std::string& linear_name, const std::string& architecture) {
  const std::string family = family_of(architecture);
  std::vector<ModuleInfo> out;
  for (size_t dot = linear_name.rfind('.'); dot != std::string::npos && dot > 0;
       dot = linear_name.rfind('.', dot - 1)) {
    const std::string name = linear_name.substr(0, dot);
    const size_t last_dot = name.rfind('.');
    const std::string last = last_dot == std::string::npos ? name : name.substr(last_dot + 1);
    std::string class_name;
    if (name == "model") {
      class_name = family + "Model";
    } else if (name == "model.layers") {
      class_name = "ModuleList";
    } else if (io::in_decoder_layers(name) && is_layer_index(name.substr(io::kDecoderLayersPrefix.size()))) {
      class_name = decoder_layer_class(architecture);
    } else if (last == "self_attn") {
      class_name = family + "Attention";
    } else if (last == "block_sparse_moe" || (last == "mlp" && inside_sparse_mlp(linear_name))) {
      class_name = sparse_block_class(architecture, family);
    } else if (last == "experts") {
      class_name = family + "Experts";
    } else if (last == "mlp" || last == "shared_experts") {
      class_name = family + "MLP";
    }
    out.push_back({name, class_name.empty() ? std::vector<std::string>{} : std::vector<std::string>{class_name}, 0, 0});
  }
  return out;
}

bool selects_linear_or_enclosing(const ModuleInfo& linear, const std::string& architecture,
                                 const std::vector<std::string>& targets, const std::vector<std::string>& ignore) {
  if (any_target_matches(linear, ignore)) return false;
  if (any_target_matches(linear, targets)) return true;
  for (const ModuleInfo& parent : enclosing_modules(linear.name, architecture)) {
    if (any_target_matches(parent, targets)) return true;
  }
  return false;
}

bool names_the_decoder_layers(const std::vector<std::string>& sequential_targets, const std::string& architecture,
                              int num_layers) {
  if (sequential_targets.empty() || num_layers <= 0) return false;
  // Every module a target could name on the way to a Linear, decoder layers or not.
  const std::vector<ModuleInfo> candidates = enclosing_modules(io::layer_module_name(0, "self_attn.q_proj"), architecture);
  for (const std::string& target : sequential_targets) {
    for (const ModuleInfo& module : candidates) {
      const bool is_layer = module.name == io::layer_name(0);
      if (target_matches(module, target) != is_layer) return false;
    }
    for (int layer = 1; layer < num_layers; ++layer) {
      const ModuleInfo decoder_layer{io::layer_name(layer), {decoder_layer_class(architecture)}, 0, 0};
      if (!target_matches(decoder_layer, target)) return false;
    }
  }
  return true;
}

}  // namespace dcomp::lifecycle
