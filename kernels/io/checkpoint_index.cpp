// reference: Hugging Face transformers, modeling_utils.py (load_sharded_checkpoint:
// index["weight_map"] maps each parameter name to its shard file)

#include "kernels/io/checkpoint_index.hpp"

#include <fstream>

#include <nlohmann/json.hpp>

#include "kernels/json/bounded_json.hpp"
#include "kernels/io/safetensors.hpp"

namespace dcomp::io::detail {

std::map<std::string, std::string> read_weight_map(const std::filesystem::path& index_path) {
  const auto fail = [&](const std::string& problem) -> void {
    throw SafetensorsError(index_path.string() + ": " + problem);
  };
  std::ifstream stream(index_path, std::ios::binary);
  if (!stream) fail("cannot open");
  nlohmann::json index;
  try {
    const std::string text = json_input::read_bounded_text(stream, index_path.string(), json_input::kMaxConfigJsonBytes);
    if (stream.bad()) fail("cannot read");
    index = json_input::parse_bounded_json(text, index_path.string());
  } catch (const json_input::JsonLimitError& error) {
    throw SafetensorsError(error.what());
  } catch (const nlohmann::json::exception& error) {  // parse_error, or out_of_range for a number too large
    fail(std::string("not valid JSON: ") + error.what());
  }
  if (!index.is_object()) fail(std::string("is a JSON ") + index.type_name() + ", not an object");
  const auto weight_map = index.find("weight_map");
  if (weight_map == index.end() || !weight_map->is_object()) fail("has no \"weight_map\" object");

  std::map<std::string, std::string> shard_of;
  for (const auto& [name, shard] : weight_map->items()) {
    if (!shard.is_string()) {
      fail("weight_map entry '" + name + "' is a JSON " + shard.type_name() + ", not a file name");
    }
    const auto file = shard.get<std::string>();
    const std::filesystem::path as_path(file);
    if (file.empty() || as_path.filename() != as_path || file == "." || file == "..") {
      fail("weight_map entry '" + name + "' names shard '" + file + "', which is not a plain file name");
    }
    shard_of.emplace(name, file);
  }
  return shard_of;
}

}  // namespace dcomp::io::detail
