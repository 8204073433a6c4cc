// Conversion between YAML nodes (recipes) and JSON values (the
// compressed-tensors data model).
#pragma once

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace dcomp::lifecycle {

/// Plain YAML scalars become null / bool / integer / float / string by their
/// spelling; quoted scalars stay strings.
nlohmann::json yaml_to_json(const YAML::Node& node);
void emit_json_as_yaml(YAML::Emitter& out, const nlohmann::json& value);

}  // namespace dcomp::lifecycle
