// `dcomp inspect DIR`: a checkpoint's scheme, tensor counts and sizes, and
// its compression ratio against the same model stored densely.
#include <CLI/CLI.hpp>

#include <iomanip>
#include <iostream>
#include <map>

#include "kernels/ct/checkpoint_verification.hpp"
#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/io/safetensors.hpp"
#include "kernels/quant/quant_args.hpp"
#include "launch/cli_errors.hpp"
#include "launch/commands.hpp"
#include "kernels/io/name_affixes.hpp"

namespace dcomp::launch {
namespace {

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 4) {
    bytes /= 1024.0;
    ++unit;
  }
  std::ostringstream out;
  out << std::fixed << std::setprecision(unit == 0 ? 0 : 2) << bytes << " " << units[unit];
  return out.str();
}

// Tensor counts and bytes of a checkpoint, and what the same model takes stored densely.
struct CheckpointSizes {
  std::map<std::string, int64_t> count_by_dtype;
  std::map<std::string, uint64_t> bytes_by_dtype;
  uint64_t stored = 0;
  uint64_t dense_equivalent = 0;

  // dense_equivalent / stored; 0 for a checkpoint with no bytes.
  double compression_ratio() const {
    return stored ? static_cast<double>(dense_equivalent) / static_cast<double>(stored) : 0.0;
  }
};

// The tensors and bytes stored per dtype, and the bytes stored in all.
void tally_stored_tensors(const io::CheckpointReader& reader, CheckpointSizes& sizes) {
  for (const auto& name : reader.names()) {
    auto info = reader.info(name);
    const uint64_t bytes = info.end - info.begin;
    sizes.stored += bytes;
    const std::string dtype = io::dtype_name(info.dtype);
    ++sizes.count_by_dtype[dtype];
    sizes.bytes_by_dtype[dtype] += bytes;
  }
}

// The dense element size: the model dtype of the unquantized floating tensors (that of the
// first F32, BF16 or F16 tensor), 2 bytes when there is none.
size_t dense_element_size(const io::CheckpointReader& reader) {
  size_t dense_element = 0;
  for (const auto& name : reader.names()) {
    auto info = reader.info(name);
    if (dense_element == 0 && (info.dtype == io::DType::F32 || info.dtype == io::DType::BF16 ||
                               info.dtype == io::DType::F16)) {
      dense_element = io::dtype_size(info.dtype);
    }
  }
  if (dense_element == 0) dense_element = 2;
  return dense_element;
}

// The bytes tensor `name` would take stored densely, with elements of dense_element bytes.
uint64_t dense_bytes_of(const io::CheckpointReader& reader, const std::string& name, size_t dense_element) {
  auto info = reader.info(name);
  int64_t elements = 1;
  for (auto d : info.shape) elements *= d;
  if (io::ends_with(name, ".weight_packed") && info.dtype == io::DType::U8) {  // FP4: two codes a byte
    return static_cast<uint64_t>(elements) * 2 * dense_element;
  } else if (io::ends_with(name, ".weight_packed")) {
    // ".weight_shape": integers [2], the dense [rows, columns]
    auto shape = reader.load(name.substr(0, name.size() - 7) + "_shape");
    auto values = shape.to(at::kLong);
    return static_cast<uint64_t>(values[0].item<int64_t>() * values[1].item<int64_t>()) * dense_element;
  } else if (io::ends_with(name, ".weight_scale") || io::ends_with(name, ".weight_zero_point") ||
             io::ends_with(name, ".weight_shape") || io::ends_with(name, ".weight_g_idx") ||
             io::ends_with(name, ".input_scale") || io::ends_with(name, ".input_zero_point") ||
             io::ends_with(name, "_global_scale")) {
    return 0;  // quantization metadata has no dense counterpart
  } else {
    return static_cast<uint64_t>(elements) * dense_element;
  }
}

// Stored and dense-equivalent sizes of every tensor the checkpoint holds.
CheckpointSizes measure_checkpoint(const io::CheckpointReader& reader) {
  CheckpointSizes sizes;
  tally_stored_tensors(reader, sizes);
  const size_t dense_element = dense_element_size(reader);
  for (const auto& name : reader.names()) sizes.dense_equivalent += dense_bytes_of(reader, name, dense_element);
  return sizes;
}

// `dcomp inspect --json`: one JSON object on stdout.
void print_json_summary(const std::filesystem::path& dir, const ct::CompressedCheckpoint& checkpoint,
                        const CheckpointSizes& sizes) {
  const auto& config = checkpoint.quantization_config();
  nlohmann::json groups = nlohmann::json::object();
  for (const auto& [name, scheme] : config.groups) groups[name] = quant::to_json(scheme);
  nlohmann::json dtypes = nlohmann::json::object();
  for (const auto& [dtype, count] : sizes.count_by_dtype)
    dtypes[dtype] = {{"tensors", count}, {"bytes", sizes.bytes_by_dtype.at(dtype)}};
  std::cout << nlohmann::json{{"checkpoint", dir.string()}, {"format", config.format},
                              {"config_groups", groups}, {"ignore", config.ignore},
                              {"kv_cache_scheme", config.kv_cache_scheme}, {"tensors", checkpoint.reader().names().size()},
                              {"dtypes", dtypes}, {"stored_bytes", sizes.stored},
                              {"dense_equivalent_bytes", sizes.dense_equivalent},
                              {"compression_ratio", sizes.compression_ratio()}}
                   .dump(2)
            << "\n";
}

// One config group: its targets, and its weight and input-activation quantization.
void print_config_group(const std::string& name, const quant::QuantizationScheme& scheme) {
  std::cout << "group " << name << ": targets";
  for (const auto& t : scheme.targets) std::cout << " " << t;
  if (scheme.weights) {
    const auto& w = *scheme.weights;
    std::cout << "; weights " << quant::to_string(w.type) << w.num_bits << " "
              << (w.symmetric ? "symmetric" : "asymmetric") << " " << quant::to_string(w.resolved_strategy());
    if (w.group_size && *w.group_size > 0) std::cout << " " << *w.group_size;
  }
  if (scheme.input_activations) {
    const auto& a = *scheme.input_activations;
    std::cout << "; input activations " << quant::to_string(a.type) << a.num_bits << " "
              << quant::to_string(a.resolved_strategy()) << (a.dynamic ? " dynamic" : " static");
  }
  std::cout << "\n";
}

// The quantization_config: format, groups, ignored modules and KV-cache scheme.
void print_quantization_scheme(const ct::CompressedCheckpoint& checkpoint) {
  if (!checkpoint.has_quantization_config()) {
    std::cout << "scheme: none (dense checkpoint)\n";
    return;
  }
  const auto& config = checkpoint.quantization_config();
  std::cout << "format: " << config.format << "\n";
  for (const auto& [name, scheme] : config.groups) print_config_group(name, scheme);
  if (!config.ignore.empty()) {
    std::cout << "ignored:";
    for (const auto& name : config.ignore) std::cout << " " << name;
    std::cout << "\n";
  }
  if (config.kv_cache_scheme.is_object()) {
    std::cout << "kv cache: " << config.kv_cache_scheme.value("type", "?") << config.kv_cache_scheme.value("num_bits", 0)
              << " " << config.kv_cache_scheme.value("strategy", "?")
              << " (self_attn.k_scale / v_scale per layer)\n";
  }
}

// Tensors per dtype and the stored and dense-equivalent sizes.
void print_sizes(const io::CheckpointReader& reader, const CheckpointSizes& sizes) {
  std::cout << "tensors: " << reader.names().size() << "\n";
  for (const auto& [dtype, count] : sizes.count_by_dtype) {
    std::cout << "  " << std::left << std::setw(8) << dtype << std::right << std::setw(6) << count << " tensors  "
              << human_bytes(static_cast<double>(sizes.bytes_by_dtype.at(dtype))) << "\n";
  }
  std::cout << "stored: " << human_bytes(static_cast<double>(sizes.stored)) << ", dense equivalent: "
            << human_bytes(static_cast<double>(sizes.dense_equivalent)) << ", compression ratio " << std::fixed
            << std::setprecision(2) << sizes.compression_ratio() << "x\n";
}

void inspect(const std::filesystem::path& dir, bool json_output) {
  ct::CompressedCheckpoint checkpoint(dir);
  CheckpointSizes sizes = measure_checkpoint(checkpoint.reader());
  if (json_output) {
    print_json_summary(dir, checkpoint, sizes);
    return;
  }
  std::cout << "checkpoint: " << dir.string() << "\n";
  print_quantization_scheme(checkpoint);
  print_sizes(checkpoint.reader(), sizes);
}

}  // namespace

// --verify: every tensor read and checked (ct::verify_checkpoint); exit code 1 on any problem.
void verify(const std::filesystem::path& dir, bool json_output) {
  const ct::VerificationReport report = ct::verify_checkpoint(dir);
  std::ostream& out = json_output ? std::cerr : std::cout;  // stdout holds the JSON alone
  out << "verify: " << report.tensors_read << " tensors read, " << report.linears_decoded
            << " Linear layers decoded: " << (report.problems.empty() ? "no problems" : "problems found") << "\n";
  for (const auto& problem : report.problems) std::cerr << "dcomp: error: " << problem << "\n";
  if (!report.problems.empty()) {
    std::cerr << "dcomp: error: " << dir.string() << ": " << report.problems.size()
              << " problem(s); the checkpoint is not sound\n";
    set_exit_code(1);
  }
}

void add_inspect_command(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto json_output = std::make_shared<bool>(false);
  auto verify_all = std::make_shared<bool>(false);
  auto* command = app.add_subcommand("inspect", "Show a checkpoint's scheme, tensor counts, sizes and compression ratio");
  command->add_option("dir", *dir, "Checkpoint folder")->required()->check(CLI::ExistingDirectory);
  command->add_flag("--json", *json_output, "Print one JSON object");
  command->add_flag("--verify", *verify_all,
                    "Also read every tensor: each Linear decoded to the shape config.json implies, floating scales, "
                    "finite values, no tensor left over; exit code 1 on any problem");
  command->callback([dir, json_output, verify_all] {
    inspect(*dir, *json_output);
    if (*verify_all) verify(*dir, *json_output);
  });
}

}  // namespace dcomp::launch
