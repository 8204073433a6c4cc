// Hidden states parked in host memory on a GPU run: one page-locked buffer of each chunk's
// own size (not one power-of-two-rounded pinned allocation per batch), every batch a pinned
// view of its chunk's; and layer after layer, the round trip (asynchronous copy to the GPU, a
// forward pass, asynchronous copy back into the same slot, wait_for_stored_batches)
// gives the values the same computation gives on the host.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <vector>

#include "pipeline/hidden_state_placement.hpp"
#include "support/aten_cuda.hpp"

namespace dcomp::pipeline {
namespace {

const c10::Device kGpu(c10::DeviceType::CUDA, 0);

/// Chunks of batches [batch, seq, hidden] fp32 whose sizes are not powers of two.
HiddenStates uneven_hidden_states() {
  at::manual_seed(5);
  HiddenStates hidden;
  hidden.chunks = {{at::randn({3, 37, 96}), at::randn({1, 53, 96})}, {at::randn({5, 29, 96})}};
  hidden.samples_per_chunk = {4, 5};
  return hidden;
}

/// The stand-in for a decoder layer: elementwise, so host and GPU round it the same way.
at::Tensor layer(const at::Tensor& x) { return x.mul(1.5).add(0.25).tanh(); }

TEST(HiddenStatePinning, ParkedBatchesArePinnedViewsOfOneBufferPerChunkOfItsSize) {
  DCOMP_ATEN_CUDA_OR_SKIP();
  HiddenStates hidden = uneven_hidden_states();
  std::vector<at::Tensor> originals;
  for (const auto& chunk : hidden.chunks) {
    for (const auto& batch : chunk) originals.push_back(batch.clone());
  }
  const int64_t bytes = hidden_state_bytes(hidden);
  const HiddenStatePlan plan = plan_hidden_states(kGpu, bytes, /*free_device_bytes=*/bytes, 0.5);
  ASSERT_EQ(plan.placement, HiddenStatePlacement::kPinnedHost);
  place_hidden_states(hidden, plan, kGpu);
  size_t i = 0;
  for (const auto& chunk : hidden.chunks) {
    const at::Tensor& first = chunk.front();
    int64_t chunk_bytes = 0;
    for (const auto& batch : chunk) {
      EXPECT_TRUE(batch.device().is_cpu());
      EXPECT_TRUE(batch.is_pinned());
      EXPECT_TRUE(batch.storage().is_alias_of(first.storage()));  // one allocation for the chunk
      EXPECT_TRUE(at::equal(batch, originals[i++]));
      chunk_bytes += batch.numel() * static_cast<int64_t>(batch.element_size());
    }
    // Its size is theirs, up to each batch's 256-byte alignment (pin_memory rounds each
    // allocation up to a power of two: the first batch's 42624 bytes to 65536).
    const auto buffer_bytes = static_cast<int64_t>(first.storage().nbytes());
    EXPECT_GE(buffer_bytes, chunk_bytes);
    EXPECT_LE(buffer_bytes, chunk_bytes + 256 * static_cast<int64_t>(chunk.size()));
  }
  EXPECT_FALSE(hidden.chunks[0][0].storage().is_alias_of(hidden.chunks[1][0].storage()));
}

TEST(HiddenStatePinning, RoundTripsThroughTheGpuKeepTheSlotsAndTheValues) {
  DCOMP_ATEN_CUDA_OR_SKIP();
  HiddenStates hidden = uneven_hidden_states();
  std::vector<at::Tensor> expected;
  for (const auto& chunk : hidden.chunks) {
    for (const auto& batch : chunk) expected.push_back(batch.clone());
  }
  const int64_t bytes = hidden_state_bytes(hidden);
  place_hidden_states(hidden, plan_hidden_states(kGpu, bytes, std::nullopt, 0.5), kGpu);
  std::vector<const void*> slots;
  for (const auto& chunk : hidden.chunks) {
    for (const auto& batch : chunk) slots.push_back(batch.data_ptr());
  }
  for (int pass = 0; pass < 3; ++pass) {
    for (auto& chunk : hidden.chunks) {
      for (auto& batch : chunk) {
        const at::Tensor on_gpu = batch_on(batch, kGpu);
        EXPECT_TRUE(on_gpu.is_cuda());
        store_batch(batch, layer(on_gpu));
      }
    }
    wait_for_stored_batches(kGpu);
    for (auto& value : expected) value = layer(value);
  }
  size_t i = 0;
  for (const auto& chunk : hidden.chunks) {
    for (const auto& batch : chunk) {
      EXPECT_EQ(batch.data_ptr(), slots[i]) << "batch " << i << " left its pinned slot";
      EXPECT_TRUE(batch.is_pinned());
      EXPECT_TRUE(at::allclose(batch, expected[i], 1e-6, 1e-6)) << "batch " << i;
      ++i;
    }
  }
}

}  // namespace
}  // namespace dcomp::pipeline
