// reference: llm-compressor modifiers/gptq/base.py compress_modules (greedy_bin_packing);
// dcomp weighs modules by their solve cost instead of in_features.
#include "lifecycle/modifiers/module_distribution.hpp"

#include <algorithm>
#include <numeric>
#include <sstream>

namespace dcomp::lifecycle {

double solve_cost(int64_t rows, int64_t cols) {
  const double r = static_cast<double>(rows);
  const double c = static_cast<double>(cols);
  return r * c * c + c * c * c;
}

std::vector<int> assign_owners(const std::vector<std::pair<int64_t, int64_t>>& shapes, int world_size) {
  std::vector<int> owners(shapes.size(), 0);
  if (world_size <= 1) return owners;
  std::vector<size_t> order(shapes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return solve_cost(shapes[a].first, shapes[a].second) > solve_cost(shapes[b].first, shapes[b].second);
  });
  std::vector<double> load(static_cast<size_t>(world_size), 0.0);
  for (size_t index : order) {
    auto lightest = std::min_element(load.begin(), load.end());
    owners[index] = static_cast<int>(lightest - load.begin());
    *lightest += solve_cost(shapes[index].first, shapes[index].second);
  }
  return owners;
}

std::vector<int> solve_owners(const LayerWork& layer, const std::vector<LinearModule*>& modules, int world_size) {
  std::vector<int> owners(modules.size(), 0);
  std::vector<size_t> free_modules;
  std::vector<std::pair<int64_t, int64_t>> shapes;
  for (size_t i = 0; i < modules.size(); ++i) {
    const auto held = layer.input_owner.find(modules[i]->input);
    if (held != layer.input_owner.end()) {
      owners[i] = held->second;
      continue;
    }
    free_modules.push_back(i);
    shapes.emplace_back(modules[i]->weight.size(0), modules[i]->weight.size(1));
  }
  const std::vector<int> balanced = assign_owners(shapes, world_size);
  for (size_t j = 0; j < free_modules.size(); ++j) owners[free_modules[j]] = balanced[j];
  return owners;
}

std::map<std::string, int> assign_input_owners(
    const std::vector<std::pair<std::string, std::vector<std::pair<int64_t, int64_t>>>>& inputs, int world_size) {
  std::map<std::string, int> owners;
  if (world_size <= 1) return owners;
  // One stand-in shape per input with its readers' summed cost: rows·cols² + cols³ per reader.
  std::vector<double> costs;
  for (const auto& [key, readers] : inputs) {
    double cost = 0;
    for (const auto& [rows, cols] : readers) cost += solve_cost(rows, cols);
    costs.push_back(cost);
  }
  std::vector<size_t> order(inputs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return costs[a] > costs[b]; });
  std::vector<double> load(static_cast<size_t>(world_size), 0.0);
  for (size_t index : order) {
    auto lightest = std::min_element(load.begin(), load.end());
    owners[inputs[index].first] = static_cast<int>(lightest - load.begin());
    *lightest += costs[index];
  }
  return owners;
}

void broadcast_compressed(comm::Communicator& comm, quant::CompressedWeight& weight, int owner) {
  if (comm.world_size() <= 1) return;
  at::Tensor* fields[] = {&weight.codes,         &weight.scale,         &weight.zero_point,
                          &weight.global_scale,  &weight.g_idx,         &weight.input_scale,
                          &weight.input_zero_point, &weight.input_global_scale, &weight.sparsity_mask,
                          &weight.effective_weight};
  // Which fields are defined travels first, so receivers know what follows.
  std::string present;
  if (comm.rank() == owner) {
    for (at::Tensor* field : fields) present += field->defined() ? '1' : '0';
  }
  comm.broadcast_bytes(present, owner);
  for (size_t i = 0; i < std::size(fields); ++i) {
    if (present[i] != '1') {
      *fields[i] = at::Tensor();
      continue;
    }
    *fields[i] = comm.broadcast_tensor(comm.rank() == owner ? *fields[i] : at::Tensor(), owner);
  }
}

std::vector<std::pair<std::string, double>> all_gather_values(comm::Communicator& comm,
                                                               const std::vector<std::pair<std::string, double>>& mine) {
  if (comm.world_size() <= 1) return mine;
  std::ostringstream out;
  out.precision(17);
  for (const auto& [name, value] : mine) out << name << '\t' << value << '\n';
  std::vector<std::pair<std::string, double>> all;
  for (const auto& part : comm.all_gather_bytes(out.str())) {
    std::istringstream in(part);
    std::string name;
    double value = 0;
    while (std::getline(in, name, '\t') && in >> value) {
      all.emplace_back(name, value);
      in.ignore(1);
    }
  }
  return all;
}

}  // namespace dcomp::lifecycle
