// Reading model.safetensors.index.json, the map from tensor name to shard file of a
// sharded Hugging Face checkpoint.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace dcomp::io::detail {

constexpr const char* kSingleFileName = "model.safetensors";
constexpr const char* kIndexFileName = "model.safetensors.index.json";

/// Reads `index_path` and returns its "weight_map" (tensor name -> shard file
/// name). Throws SafetensorsError naming the index when it is not valid JSON, has
/// no "weight_map" object, or lists a shard that is not a plain file name (no
/// folders, so an index cannot point outside its own folder).
std::map<std::string, std::string> read_weight_map(const std::filesystem::path& index_path);

}  // namespace dcomp::io::detail
