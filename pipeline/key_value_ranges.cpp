// reference: llm-compressor modifiers/quantization/calibration.py (calibrate_key_hook,
// calibrate_value_hook); observers/min_max.py (_get_min_max over the whole tensor for strategy tensor).
#include "pipeline/key_value_ranges.hpp"

#include <ATen/ATen.h>

#include <cstring>
#include <stdexcept>

namespace dcomp::pipeline {
namespace {

// [batch, ...] → per batch row min and max, appended in row order.
void append_row_ranges(const at::Tensor& states, std::vector<float>& mins, std::vector<float>& maxs) {
  const at::Tensor rows = states.reshape({states.size(0), -1}).to(at::kFloat).to(at::kCPU);  // [batch, n]
  const at::Tensor lo = std::get<0>(rows.min(1)).contiguous();
  const at::Tensor hi = std::get<0>(rows.max(1)).contiguous();
  const float* l = lo.data_ptr<float>();
  const float* h = hi.data_ptr<float>();
  for (int64_t b = 0; b < rows.size(0); ++b) {
    mins.push_back(l[b]);
    maxs.push_back(h[b]);
  }
}

}  // namespace

KeyValueRangeCollector::KeyValueRangeCollector() {
  hook_ = [this](const at::Tensor& keys, const at::Tensor& values) {
    append_row_ranges(keys, ranges_.key_min, ranges_.key_max);
    append_row_ranges(values, ranges_.value_min, ranges_.value_max);
  };
}

int64_t KeyValueRangeCollector::all_gather(comm::Communicator& comm) {
  if (comm.world_size() <= 1) return 0;
  // Four floats per sample, in the order key_min, key_max, value_min, value_max.
  const size_t count = ranges_.key_min.size();
  std::string bytes(count * 4 * sizeof(float), '\0');
  for (size_t i = 0; i < count; ++i) {
    const float values[4] = {ranges_.key_min[i], ranges_.key_max[i], ranges_.value_min[i], ranges_.value_max[i]};
    std::memcpy(bytes.data() + i * sizeof values, values, sizeof values);
  }
  lifecycle::KeyValueRanges all;
  for (const std::string& part : comm.all_gather_bytes(bytes)) {
    if (part.size() % (4 * sizeof(float)) != 0) throw std::runtime_error("key/value ranges: a rank sent a torn list");
    for (size_t offset = 0; offset < part.size(); offset += 4 * sizeof(float)) {
      float values[4];
      std::memcpy(values, part.data() + offset, sizeof values);
      all.key_min.push_back(values[0]);
      all.key_max.push_back(values[1]);
      all.value_min.push_back(values[2]);
      all.value_max.push_back(values[3]);
    }
  }
  ranges_ = std::move(all);
  return static_cast<int64_t>(bytes.size());
}

void KeyValueRangeCollector::fill(lifecycle::LayerWork& layer) { layer.key_value_ranges = std::move(ranges_); }

}  // namespace dcomp::pipeline

