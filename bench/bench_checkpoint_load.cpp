// Loading one decoder layer of a sharded checkpoint versus loading all of it.
//
// Writes a synthetic Llama-like checkpoint (16 layers, hidden 2048, intermediate
// 8192, bf16, about 2.2 GB in shards of at most 600 MB) with write_safetensors into
// a temporary folder, then runs each measurement in a fresh process (this program
// re-executed with a mode flag) so that peak RSS is per measurement:
//   (a) CheckpointReader::load_prefix("model.layers.7.") and read every byte;
//   (b) CheckpointReader::load of every tensor and read every byte.
// Each runs with the shards evicted from the page cache (cold) and cached (warm).
// Both compare a checksum of the bytes read with the one computed while writing.
//
// Usage: bench_checkpoint_load [output_dir]   (default: the system temp folder;
// a fresh subfolder is created there and removed at the end)

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "kernels/io/safetensors.hpp"
#include "kernels/platform/blas_core_restart.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using dcomp::io::CheckpointReader;
using dcomp::io::NamedTensor;

constexpr int kLayers = 16;
constexpr int64_t kHidden = 2048;
constexpr int64_t kIntermediate = 8192;
constexpr int64_t kKvDim = 256;  // 4 KV heads of 64
constexpr int64_t kVocab = 32000;
constexpr uint64_t kMaxShardBytes = 600ull << 20;
constexpr int kMeasuredLayer = 7;

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  uint64_t bytes() const {
    uint64_t count = 2;  // bf16
    for (int64_t extent : shape) count *= static_cast<uint64_t>(extent);
    return count;
  }
};

// The tensors of a Llama-style model in Hugging Face naming, in file order.
std::vector<TensorSpec> model_tensors() {
  std::vector<TensorSpec> specs = {{"model.embed_tokens.weight", {kVocab, kHidden}}};
  for (int i = 0; i < kLayers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    specs.push_back({p + "input_layernorm.weight", {kHidden}});
    specs.push_back({p + "self_attn.q_proj.weight", {kHidden, kHidden}});
    specs.push_back({p + "self_attn.k_proj.weight", {kKvDim, kHidden}});
    specs.push_back({p + "self_attn.v_proj.weight", {kKvDim, kHidden}});
    specs.push_back({p + "self_attn.o_proj.weight", {kHidden, kHidden}});
    specs.push_back({p + "post_attention_layernorm.weight", {kHidden}});
    specs.push_back({p + "mlp.gate_proj.weight", {kIntermediate, kHidden}});
    specs.push_back({p + "mlp.up_proj.weight", {kIntermediate, kHidden}});
    specs.push_back({p + "mlp.down_proj.weight", {kHidden, kIntermediate}});
  }
  specs.push_back({"model.norm.weight", {kHidden}});
  specs.push_back({"lm_head.weight", {kVocab, kHidden}});
  return specs;
}

// Sum of the 8-byte little-endian words of `size` bytes (plus any tail bytes): reads every byte.
uint64_t checksum(const void* data, uint64_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  uint64_t sum = 0;
  uint64_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes + i, 8);
    sum += word;
  }
  for (; i < size; ++i) sum += bytes[i];
  return sum;
}

uint64_t checksum(const at::Tensor& tensor) { return checksum(tensor.data_ptr(), tensor.nbytes()); }

// Fills a tensor's bytes with a xorshift64 stream (fast, not compressible).
void fill_pseudo_random(at::Tensor& tensor, uint64_t seed) {
  auto* bytes = static_cast<uint8_t*>(tensor.data_ptr());
  const uint64_t size = tensor.nbytes();
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (uint64_t i = 0; i < size; i += 8) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    std::memcpy(bytes + i, &state, std::min<uint64_t>(8, size - i));
  }
}

long status_kib(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(status, line)) {
    if (line.rfind(prefix, 0) == 0) return std::stol(line.substr(prefix.size()));
  }
  return -1;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ---- child: write the checkpoint ------------------------------------------------

// Prints "layer_checksum <c>", "total_checksum <c>", "bytes <n>", "shards <n>", "seconds <s>".
int child_write(const fs::path& dir) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<TensorSpec> specs = model_tensors();
  std::vector<std::vector<size_t>> shards(1);
  uint64_t shard_bytes = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (shard_bytes > 0 && shard_bytes + specs[i].bytes() > kMaxShardBytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(i);
    shard_bytes += specs[i].bytes();
  }

  const std::string layer_prefix = "model.layers." + std::to_string(kMeasuredLayer) + ".";
  uint64_t layer_sum = 0, total_sum = 0, total_bytes = 0;
  std::map<std::string, std::string> weight_map;
  char shard_name[64];
  for (size_t s = 0; s < shards.size(); ++s) {
    std::snprintf(shard_name, sizeof(shard_name), "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    std::vector<NamedTensor> tensors;
    for (size_t index : shards[s]) {
      at::Tensor tensor = at::empty(specs[index].shape, at::kBFloat16);
      fill_pseudo_random(tensor, index);
      const uint64_t sum = checksum(tensor);
      total_sum += sum;
      if (specs[index].name.rfind(layer_prefix, 0) == 0) layer_sum += sum;
      total_bytes += tensor.nbytes();
      weight_map[specs[index].name] = shard_name;
      tensors.push_back({specs[index].name, std::move(tensor), {}});
    }
    dcomp::io::write_safetensors(dir / shard_name, tensors, {{"format", "pt"}});
  }
  dcomp::io::write_safetensors_index(dir / "model.safetensors.index.json", weight_map, total_bytes);
  std::cout << "layer_checksum " << layer_sum << "\ntotal_checksum " << total_sum << "\nbytes " << total_bytes
            << "\nshards " << shards.size() << "\nseconds " << seconds_since(start) << "\n";
  return 0;
}

// ---- child: read one layer or everything ------------------------------------------

// Prints "seconds", "checksum", "bytes", "rss_before_kib", "hwm_kib", "maxrss_kib".
int child_read(const fs::path& dir, const std::string& what) {
  const long rss_before = status_kib("VmRSS");
  const auto start = std::chrono::steady_clock::now();
  const CheckpointReader reader(dir);
  std::map<std::string, at::Tensor> tensors;
  if (what == "layer") {
    tensors = reader.load_prefix("model.layers." + std::to_string(kMeasuredLayer) + ".");
  } else {
    for (const std::string& name : reader.names()) tensors.emplace(name, reader.load(name));
  }
  uint64_t sum = 0, bytes = 0;
  for (const auto& entry : tensors) {
    sum += checksum(entry.second);
    bytes += entry.second.nbytes();
  }
  const double seconds = seconds_since(start);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::cout << "seconds " << seconds << "\nchecksum " << sum << "\nbytes " << bytes << "\nrss_before_kib "
            << rss_before << "\nhwm_kib " << status_kib("VmHWM") << "\nmaxrss_kib " << usage.ru_maxrss << "\n";
  return 0;
}

// ---- parent ----------------------------------------------------------------------

// Runs this program with `args` and returns its "key value" lines.
std::map<std::string, std::string> run_child(const std::vector<std::string>& args) {
  const std::string exe = fs::read_symlink("/proc/self/exe").string();
  std::vector<std::string> all = {exe};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : all) argv.push_back(arg.data());
  argv.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  pid_t pid = 0;
  const int spawn_error = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (spawn_error != 0) throw std::runtime_error(std::string("posix_spawn failed: ") + std::strerror(spawn_error));

  std::string output;
  char buffer[4096];
  ssize_t count;
  while ((count = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0) output.append(buffer, count);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("child '" + args.front() + "' failed with status " + std::to_string(status));
  }
  std::map<std::string, std::string> values;
  std::istringstream lines(output);
  std::string key, value;
  while (lines >> key >> value) values[key] = value;
  return values;
}

std::vector<fs::path> shard_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".safetensors") files.push_back(entry.path());
  }
  return files;
}

// Flushes and drops the shards from the page cache (POSIX_FADV_DONTNEED); returns
// the fraction of their pages still resident afterwards (mincore).
double evict_from_page_cache(const fs::path& dir) {
  uint64_t pages = 0, resident = 0;
  const long page = sysconf(_SC_PAGESIZE);
  for (const fs::path& file : shard_files(dir)) {
    const int fd = ::open(file.c_str(), O_RDONLY);
    if (fd < 0) throw std::runtime_error("cannot open " + file.string());
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    const uint64_t size = fs::file_size(file);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    std::vector<unsigned char> in_core((size + page - 1) / page);
    if (map != MAP_FAILED && ::mincore(map, size, in_core.data()) == 0) {
      for (unsigned char bit : in_core) resident += bit & 1;
    }
    if (map != MAP_FAILED) ::munmap(map, size);
    pages += in_core.size();
    ::close(fd);
  }
  return pages == 0 ? 0.0 : double(resident) / double(pages);
}

// A folder under `base`, removed with its contents when this goes out of scope.
struct ScratchFolder {
  fs::path path;
  explicit ScratchFolder(const fs::path& base) {
    std::string pattern = (base / "dcomp_bench_checkpoint_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a folder under " + base.string());
    path = pattern;
  }
  ~ScratchFolder() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

int parent(const fs::path& base) {
  uint64_t planned = 0;
  for (const TensorSpec& spec : model_tensors()) planned += spec.bytes();
  struct statvfs disk {};
  if (::statvfs(base.c_str(), &disk) != 0) throw std::runtime_error("cannot stat " + base.string());
  const uint64_t available = uint64_t(disk.f_bavail) * disk.f_frsize;
  if (available < planned + (planned / 2)) {
    std::cerr << base << ": " << available / 1e9 << " GB free, " << planned * 1.5 / 1e9 << " GB needed\n";
    return 1;
  }

  ScratchFolder scratch(base);
  const fs::path dir = scratch.path;
  std::cout << "writing " << planned / 1e9 << " GB into " << dir << " ..." << std::endl;
  const auto written = run_child({"--child-write", dir.string()});
  const double write_seconds = std::stod(written.at("seconds"));
  std::cout << "checkpoint: " << kLayers << " layers, bf16, " << std::stoull(written.at("bytes")) / 1e9 << " GB in "
            << written.at("shards") << " shards; written (incl. generating the data) in " << write_seconds << " s\n\n";

  struct Row {
    std::string label, cache;
    std::map<std::string, std::string> values;
    double resident_before;
  };
  std::vector<Row> rows;
  for (const char* cache : {"cold", "warm"}) {
    for (const char* what : {"layer", "all"}) {
      double resident = -1;
      if (std::string(cache) == "cold") {
        resident = evict_from_page_cache(dir);
      } else {
        run_child({"--child-read", dir.string(), "all"});  // make sure every page is cached
      }
      auto values = run_child({"--child-read", dir.string(), what});
      const std::string expected = std::string(what) == "layer" ? written.at("layer_checksum") : written.at("total_checksum");
      if (values.at("checksum") != expected) {
        std::cerr << "checksum mismatch for " << what << ": " << values.at("checksum") << " != " << expected << "\n";
        return 1;
      }
      rows.push_back({std::string(what) == "layer" ? "one layer (load_prefix)" : "all tensors", cache,
                      std::move(values), resident});
    }
  }

  std::printf("%-24s %-5s %9s %9s %8s %14s %13s %14s\n", "case", "cache", "bytes_MB", "time_s", "GB/s", "peak_rss_MB",
              "rss_start_MB", "ru_maxrss_MB");
  for (const Row& row : rows) {
    const double bytes = std::stod(row.values.at("bytes"));
    const double seconds = std::stod(row.values.at("seconds"));
    std::printf("%-24s %-5s %9.1f %9.4f %8.2f %14.1f %13.1f %14.1f\n", row.label.c_str(), row.cache.c_str(),
                bytes / 1e6, seconds, bytes / seconds / 1e9, std::stod(row.values.at("hwm_kib")) / 1024,
                std::stod(row.values.at("rss_before_kib")) / 1024, std::stod(row.values.at("maxrss_kib")) / 1024);
  }
  std::printf("(checksums match the writer's; page-cache residency before the cold runs: %.1f%% and %.1f%%)\n",
              rows[0].resident_before * 100, rows[1].resident_before * 100);
  std::printf("peak_rss = VmHWM of the measuring process; ru_maxrss from getrusage in that process.\n\n");

  const auto ratio = [&](size_t all, size_t layer, const char* key, bool minus_start) {
    double a = std::stod(rows[all].values.at(key)), l = std::stod(rows[layer].values.at(key));
    if (minus_start) {
      a -= std::stod(rows[all].values.at("rss_before_kib"));
      l -= std::stod(rows[layer].values.at("rss_before_kib"));
    }
    return a / l;
  };
  std::printf("ratios all / one layer:\n");
  std::printf("  time             cold %.1fx   warm %.1fx\n", ratio(1, 0, "seconds", false), ratio(3, 2, "seconds", false));
  std::printf("  peak RSS         cold %.1fx   warm %.1fx\n", ratio(1, 0, "hwm_kib", false), ratio(3, 2, "hwm_kib", false));
  std::printf("  RSS growth       cold %.1fx   warm %.1fx   (peak minus RSS at process start)\n",
              ratio(1, 0, "hwm_kib", true), ratio(3, 2, "hwm_kib", true));
  std::printf("  bytes            %.1fx\n", std::stod(rows[1].values.at("bytes")) / std::stod(rows[0].values.at("bytes")));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  dcomp::platform::ensure_best_blas_core(argc, argv);
  try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 2 && args[0] == "--child-write") return child_write(args[1]);
    if (args.size() == 3 && args[0] == "--child-read") return child_read(args[1], args[2]);
    if (args.size() > 1 || (args.size() == 1 && args[0].rfind("--", 0) == 0)) {
      std::cerr << "usage: " << argv[0] << " [output_dir]\n";
      return 2;
    }
    return parent(args.empty() ? fs::temp_directory_path() : fs::path(args[0]));
  } catch (const std::exception& error) {
    std::cerr << "bench_checkpoint_load: " << error.what() << "\n";
    return 1;
  }
}
