// Stacks for the tensor-ops solves (GPTQ, SparseGPT): the Linears one stacked solve takes
// together, those of one shape and scheme (every expert's gate_proj, say), bounded in size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace dcomp::lifecycle {

/// The most weight elements one stack holds (1 GiB of fp32 per working copy on the device).
inline constexpr int64_t kMaxStackElements = int64_t{1} << 28;

/// Items 0 … count−1 grouped by key_of(i) (items of one key share a shape and scheme), in
/// order; a stack is closed when the next item would take it past kMaxStackElements
/// (elements_of(i) each), and that item starts the key's next stack.
inline std::vector<std::vector<size_t>> stacks_by_key(size_t count, const std::function<std::string(size_t)>& key_of,
                                                      const std::function<int64_t(size_t)>& elements_of) {
  std::vector<std::vector<size_t>> stacks;
  std::map<std::string, size_t> open;  // key → the stack still filling
  for (size_t i = 0; i < count; ++i) {
    const std::string key = key_of(i);
    const auto found = open.find(key);
    if (found != open.end() &&
        static_cast<int64_t>(stacks[found->second].size() + 1) * elements_of(i) <= kMaxStackElements) {
      stacks[found->second].push_back(i);
      continue;
    }
    open[key] = stacks.size();
    stacks.push_back({i});
  }
  return stacks;
}

}  // namespace dcomp::lifecycle
