// What a smoothing mapping (AWQ, SmoothQuant) selects in the model, resolved from the module
// list at initialize exactly as each decoder layer resolves it later: the smooth layer among
// the layer's norms (and, for AWQ, its Linears), the balance layers among its Linears. A
// mapping that selects nothing would be skipped silently on every layer; the modifiers refuse
// it before any calibration instead.
// reference: llm-compressor src/llmcompressor/modifiers/transform/smoothquant/base.py
// (_resolve_mappings), modifiers/transform/awq/base.py (_set_resolved_mappings).
#pragma once

#include <string>
#include <vector>

#include "lifecycle/model_handle.hpp"

namespace dcomp::lifecycle {

struct MappingMatches {
  std::vector<std::string> smooth;   // decoder-layer norms (or Linears) the smooth target selects, model order
  std::vector<std::string> balance;  // decoder-layer Linears the balance targets select, model order
};

/// `smooth_may_be_linear`: AWQ's smooth layer may be a Linear (v_proj → o_proj); SmoothQuant's
/// is a norm. A modifier's ignore list is not applied: a mapping whose layers are all
/// ignored is skipped on purpose, one that selects nothing is a mistake.
MappingMatches match_mapping(const ModelHandle& model, const std::string& smooth, const std::vector<std::string>& balance,
                             bool smooth_may_be_linear);

/// "[re:.*q_proj, re:.*k_proj] ← re:.*input_layernorm", for messages.
std::string describe_mapping(const std::string& smooth, const std::vector<std::string>& balance);

/// Throws RecipeError "<where>: <modifier> mapping <description>: ..." when the smooth target
/// or the balance targets select nothing.
void require_mapping_matches(const MappingMatches& matches, const std::string& where, const std::string& modifier,
                             const std::string& smooth, const std::vector<std::string>& balance,
                             bool smooth_may_be_linear);

}  // namespace dcomp::lifecycle
