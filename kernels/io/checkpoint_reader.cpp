// CheckpointReader: the tensors of a Hugging Face model folder, from one
// model.safetensors or from the shards listed by model.safetensors.index.json.
// Shards are mapped on first use; a mapped shard stays open for the reader's life.
// reference: Hugging Face transformers, modeling_utils.py (load_sharded_checkpoint)

#include <mutex>

#include <ATen/ATen.h>

#include "kernels/io/checkpoint_index.hpp"
#include "kernels/io/safetensors.hpp"

namespace dcomp::io {

struct CheckpointReader::Impl {
  struct Shard {
    std::filesystem::path path;
    std::shared_ptr<SafetensorsFile> file;  // null until first use
  };

  std::filesystem::path directory;
  std::filesystem::path index_path;  // empty for a single-file checkpoint
  std::map<std::string, size_t> shard_of;  // tensor name -> position in shards
  mutable std::vector<Shard> shards;  // Shard::file is guarded by `mutex`
  mutable std::mutex mutex;

  size_t shard_index(const std::string& name) const {
    const auto found = shard_of.find(name);
    if (found == shard_of.end()) {
      throw SafetensorsError((index_path.empty() ? shards.front().path : index_path).string() +
                             ": no tensor named '" + name + "'");
    }
    return found->second;
  }

  // The shard holding `name`, mapped now if it was not yet.
  std::shared_ptr<SafetensorsFile> file_holding(const std::string& name) const {
    const size_t index = shard_index(name);
    std::shared_ptr<SafetensorsFile> file;
    {
      std::lock_guard<std::mutex> lock(mutex);
      Shard& shard = shards[index];
      if (!shard.file) shard.file = SafetensorsFile::open(shard.path);
      file = shard.file;
    }
    if (!file->contains(name)) {
      throw SafetensorsError(index_path.string() + ": lists tensor '" + name + "' in shard '" +
                             file->path().filename().string() + "', but that file has no such tensor");
    }
    return file;
  }
};

namespace {

// Reads the index and checks that every shard it names exists (a stat, no mapping).
void load_index(CheckpointReader::Impl& impl) {
  const auto weight_map = detail::read_weight_map(impl.index_path);
  std::map<std::string, size_t> position_of_file;
  for (const auto& [name, file] : weight_map) {
    auto [entry, inserted] = position_of_file.emplace(file, impl.shards.size());
    if (inserted) impl.shards.push_back({impl.directory / file, nullptr});
    impl.shard_of.emplace(name, entry->second);
  }
  for (const auto& [file, position] : position_of_file) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(impl.shards[position].path, error)) {
      std::string example;
      for (const auto& [name, file_of_name] : weight_map) {
        if (file_of_name == file) {
          example = name;
          break;
        }
      }
      throw SafetensorsError(impl.index_path.string() + ": shard '" + file + "' (holding '" + example +
                             "' among others) does not exist in " + impl.directory.string());
    }
  }
}

void load_single_file(CheckpointReader::Impl& impl, const std::filesystem::path& path) {
  impl.shards.push_back({path, SafetensorsFile::open(path)});
  for (const std::string& name : impl.shards.front().file->names()) impl.shard_of.emplace(name, 0);
}

}  // namespace

CheckpointReader::CheckpointReader(const std::filesystem::path& model_dir) : impl_(std::make_unique<Impl>()) {
  impl_->directory = model_dir;
  std::error_code error;
  if (!std::filesystem::is_directory(model_dir, error)) {
    throw SafetensorsError(model_dir.string() + ": not a model folder (no such directory)");
  }
  const auto index_path = model_dir / detail::kIndexFileName;
  const auto single_path = model_dir / detail::kSingleFileName;
  if (std::filesystem::exists(index_path, error)) {
    impl_->index_path = index_path;
    load_index(*impl_);
  } else if (std::filesystem::exists(single_path, error)) {
    load_single_file(*impl_, single_path);
  } else {
    throw SafetensorsError(model_dir.string() + ": holds neither " + detail::kIndexFileName + " nor " +
                           detail::kSingleFileName);
  }
}

CheckpointReader::~CheckpointReader() = default;
CheckpointReader::CheckpointReader(CheckpointReader&&) noexcept = default;
CheckpointReader& CheckpointReader::operator=(CheckpointReader&&) noexcept = default;

const std::filesystem::path& CheckpointReader::directory() const { return impl_->directory; }

std::vector<std::string> CheckpointReader::names() const {
  std::vector<std::string> names;
  names.reserve(impl_->shard_of.size());
  for (const auto& entry : impl_->shard_of) names.push_back(entry.first);
  return names;
}

bool CheckpointReader::contains(const std::string& name) const { return impl_->shard_of.count(name) != 0; }

TensorInfo CheckpointReader::info(const std::string& name) const { return impl_->file_holding(name)->info(name); }

std::filesystem::path CheckpointReader::file_of(const std::string& name) const {
  return impl_->shards[impl_->shard_index(name)].path;
}

at::Tensor CheckpointReader::load(const std::string& name) const { return impl_->file_holding(name)->tensor(name); }

void CheckpointReader::release_prefix(const std::string& prefix) const {
  for (auto it = impl_->shard_of.lower_bound(prefix); it != impl_->shard_of.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    std::shared_ptr<SafetensorsFile> file;
    {
      std::lock_guard<std::mutex> lock(impl_->mutex);
      file = impl_->shards[it->second].file;
    }
    if (file) file->release(it->first);
  }
}

std::map<std::string, at::Tensor> CheckpointReader::load_prefix(const std::string& prefix) const {
  std::map<std::string, at::Tensor> tensors;
  for (auto it = impl_->shard_of.lower_bound(prefix);
       it != impl_->shard_of.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    tensors.emplace(it->first, load(it->first));
  }
  return tensors;
}

}  // namespace dcomp::io
