// reference: llm-compressor modifiers/gptq/gptq_quantize.py (accumulate_hessian)
#include "pipeline/layer_statistics.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <limits>

#include "pipeline/llama_model_handle.hpp"

namespace dcomp::pipeline {

std::string input_key(int layer_index, const model::LayerLayout& layout, const std::string& relative_linear) {
  return layer_module_name(layer_index, layout.input_of(relative_linear).key);
}

void accumulate_hessian(at::Tensor& sum64, const at::Tensor& tokens) {
  at::Tensor gram = at::mm(tokens.t(), tokens);  // [in, in] fp32
  // Widened to fp64 and added a band of rows at a time: the same arithmetic as adding
  // gram.to(kDouble), without an [in, in] fp64 copy (1.64 GB for a Llama-3-8B down_proj).
  const int64_t in = gram.size(0), band = 1024;
  for (int64_t row = 0; row < in; row += band) {
    const int64_t rows = std::min(band, in - row);
    sum64.narrow(0, row, rows).add_(gram.narrow(0, row, rows).to(at::kDouble), 2.0);
  }
}

namespace {

bool reads_routed_hidden_states(const model::LayerLayout& layout, const model::LayerInput& input) {
  return input.expert >= 0 && layout.find(input.linears.front())->role == model::LinearRole::ExpertGate;
}

}  // namespace

std::string calibration_input_key(int layer_index, const model::LayerLayout& layout, const std::string& relative_linear,
                                  bool experts_read_router_input) {
  const model::LayerInput& input = layout.input_of(relative_linear);
  if (experts_read_router_input && reads_routed_hidden_states(layout, input)) {
    return input_key(layer_index, layout, layout.router());
  }
  return layer_module_name(layer_index, input.key);
}

std::vector<StatisticsInput> decoder_layer_inputs(int layer_index, const model::LayerLayout& layout,
                                                  bool experts_read_router_input) {
  std::vector<StatisticsInput> inputs;
  StatisticsInput* router_input = nullptr;
  std::vector<std::string> expert_readers;  // gate/up of every expert, joining the router's input
  for (const auto& layer_input : layout.inputs) {
    if (experts_read_router_input && reads_routed_hidden_states(layout, layer_input)) {
      for (const auto& name : layer_input.linears) expert_readers.push_back(layer_module_name(layer_index, name));
      continue;
    }
    StatisticsInput input{layer_module_name(layer_index, layer_input.key), {}, layer_input.in_features,
                          layer_input.expert};
    for (const auto& name : layer_input.linears) input.consumers.push_back(layer_module_name(layer_index, name));
    inputs.push_back(std::move(input));
  }
  if (!expert_readers.empty()) {
    const std::string router_key = input_key(layer_index, layout, layout.router());
    for (auto& input : inputs) {
      if (input.key == router_key) router_input = &input;
    }
    router_input->consumers.insert(router_input->consumers.end(), expert_readers.begin(), expert_readers.end());
  }
  return inputs;
}

std::vector<StatisticsInput> lm_head_inputs(const model::ModelConfig& config) {
  return {{"model.norm", {"lm_head"}, config.hidden_size}};
}

LayerStatistics::LayerStatistics(int layer_index, const model::LayerLayout& layout, bool hessians,
                                 bool channel_ranges, c10::Device device, bool experts_read_router_input)
    : LayerStatistics(layer_index, decoder_layer_inputs(layer_index, layout, experts_read_router_input), hessians,
                      channel_ranges, device) {
  for (const auto& input : layout.inputs) {
    for (const auto& name : input.linears) {
      key_of_reader_[name] = calibration_input_key(layer_index, layout, name, experts_read_router_input);
    }
  }
  if (layout.sparse) routed_tokens_ = at::zeros({layout.num_experts}, at::kLong);
  expert_calibration_.all_experts = experts_read_router_input;
}

LayerStatistics::LayerStatistics(int layer_index, const std::vector<StatisticsInput>& inputs, bool hessians,
                                 bool channel_ranges, c10::Device device)
    : layer_index_(layer_index), hessians_(hessians), channel_ranges_(channel_ranges), device_(device) {
  const auto doubles = at::TensorOptions().dtype(at::kDouble).device(device);
  const auto floats = at::TensorOptions().dtype(at::kFloat).device(device);
  for (const auto& input : inputs) {
    auto& acc = inputs_[input.key];
    acc.consumers = input.consumers;
    acc.in_features = input.in_features;
    if (hessians_) acc.hessian_sum = at::zeros({input.in_features, input.in_features}, doubles);
    if (channel_ranges_) {
      acc.channel_min = at::full({input.in_features}, std::numeric_limits<float>::infinity(), floats);
      acc.channel_max = at::full({input.in_features}, -std::numeric_limits<float>::infinity(), floats);
    }
  }
  hook_ = [this](const std::vector<std::string>& names, const at::Tensor& x) {
    const auto key = key_of_reader_.find(names.front());
    if (key != key_of_reader_.end()) observe_input(key->second, x);
  };
}

const model::ExpertCalibration& LayerStatistics::expert_calibration() {
  expert_calibration_.on_routing = [this](const at::Tensor& experts) {
    // experts [tokens, top_k] int64: one count per (token, chosen expert).
    if (routed_tokens_.defined()) {
      routed_tokens_.add_(at::bincount(experts.reshape({-1}).to(at::kCPU), {}, routed_tokens_.numel()).to(at::kLong));
    }
  };
  return expert_calibration_;
}

void LayerStatistics::collect_activation_sums_and_inputs(bool abs_sums, bool cache_inputs) {
  cache_inputs_ = cache_inputs;
  abs_sums_ = abs_sums;
  if (!abs_sums) return;
  // Zeroed up front, so that a rank without samples takes part in the reduction.
  const auto doubles = at::TensorOptions().dtype(at::kDouble).device(device_);
  for (auto& [key, acc] : inputs_) acc.channel_abs_sum = at::zeros({acc.in_features}, doubles);
}

void LayerStatistics::observe_input(const std::string& key, const at::Tensor& x) {
  // x: [tokens, in] fp32 contiguous
  auto it = inputs_.find(key);
  if (it == inputs_.end()) return;  // not a listed input
  auto& acc = it->second;
  acc.num_tokens += x.size(0);
  if (hessians_) acc.pending.push_back(x);
  if (abs_sums_) {
    const at::Tensor sums = x.abs().sum(0, /*keepdim=*/false, at::kDouble);  // [in] fp64
    acc.channel_abs_sum.add_(sums);
  }
  if (cache_inputs_) acc.cached.push_back(x.to(at::kCPU, /*non_blocking=*/false, /*copy=*/true));
  if (channel_ranges_) {
    at::Tensor lo = std::get<0>(x.min(0));
    at::Tensor hi = std::get<0>(x.max(0));
    acc.channel_min = at::minimum(acc.channel_min, lo);
    acc.channel_max = at::maximum(acc.channel_max, hi);
  }
}

void LayerStatistics::end_chunk(int64_t samples_in_chunk, HessianQueue* queue) {
  for (auto& [key, acc] : inputs_) {
    acc.num_samples += samples_in_chunk;
    if (acc.pending.empty()) continue;
    // tokens: [chunk tokens, in] fp32; one GEMM gives Σ xᵀx over the chunk.
    at::Tensor tokens = acc.pending.size() == 1 ? acc.pending.front() : at::cat(acc.pending, 0);
    acc.pending.clear();
    if (queue) {
      queue->submit(acc.hessian_sum, tokens);
    } else {
      accumulate_hessian(acc.hessian_sum, tokens);
    }
  }
}

void LayerStatistics::all_reduce(comm::Communicator& comm) {
  reduced_bytes_ = 0;
  owner_reduced_bytes_ = 0;
  if (comm.world_size() <= 1) return;
  if (routed_tokens_.defined()) {
    comm.all_reduce(routed_tokens_, comm::ReduceOp::Sum);
    reduced_bytes_ += routed_tokens_.numel() * 8;
  }
  // std::map iterates in key order: every rank issues the same collectives in the same order.
  for (auto& [key, acc] : inputs_) {
    at::Tensor counts = at::tensor({acc.num_samples, acc.num_tokens}, at::kLong);
    comm.all_reduce(counts, comm::ReduceOp::Sum);
    acc.num_samples = counts[0].item<int64_t>();
    acc.num_tokens = counts[1].item<int64_t>();
    reduced_bytes_ += 16;
    if (hessians_) {
      const auto owner = owners_.find(key);
      if (owner == owners_.end()) {
        comm.all_reduce(acc.hessian_sum, comm::ReduceOp::Sum);
      } else {
        comm.reduce(acc.hessian_sum, comm::ReduceOp::Sum, owner->second);
        if (owner->second != comm.rank()) acc.hessian_sum = at::Tensor();  // only the owner solves with it
        owner_reduced_bytes_ += acc.in_features * acc.in_features * 8;
      }
      reduced_bytes_ += acc.in_features * acc.in_features * 8;
    }
    if (abs_sums_) {
      comm.all_reduce(acc.channel_abs_sum, comm::ReduceOp::Sum);
      reduced_bytes_ += acc.channel_abs_sum.numel() * 8;
    }
    if (channel_ranges_) {
      comm.all_reduce(acc.channel_min, comm::ReduceOp::Min);
      comm.all_reduce(acc.channel_max, comm::ReduceOp::Max);
      reduced_bytes_ += acc.channel_min.numel() * 8;
    }
  }
}

void LayerStatistics::fill(lifecycle::LayerWork& layer) {
  if (routed_tokens_.defined()) {
    const int64_t* counts = routed_tokens_.data_ptr<int64_t>();
    layer.expert_tokens.assign(counts, counts + routed_tokens_.numel());
  }
  for (const auto& [key, owner] : owners_) layer.input_owner[key] = owner;
  for (auto& [key, acc] : inputs_) {
    lifecycle::InputStatistics stats;
    stats.consumers = acc.consumers;
    stats.num_samples = acc.num_samples;
    stats.num_tokens = acc.num_tokens;
    if (acc.hessian_sum.defined()) stats.hessian_sum = acc.hessian_sum.to(at::kFloat).to(at::kCPU);
    if (acc.channel_min.defined()) {
      stats.channel_min = acc.channel_min.to(at::kCPU);
      stats.channel_max = acc.channel_max.to(at::kCPU);
    }
    if (acc.channel_abs_sum.defined()) stats.channel_abs_sum = acc.channel_abs_sum.to(at::kCPU);
    stats.cached = std::move(acc.cached);
    layer.inputs[key] = std::move(stats);
    acc.hessian_sum = at::Tensor();
  }
}

}  // namespace dcomp::pipeline
