// The Hessian worker and its side stream on a GPU: the GEMMs run on a stream of the
// pool, not the default stream the forward passes use; they start only after the work
// that wrote their inputs (queued on the producer's stream just before the hand-off);
// and after drain() the sums are those of the serial computation, read on any stream.
// On the CPU (runs everywhere): the same sums, and no stream at all.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <vector>

#include "actors/actor_runtime.hpp"
#include "actors/pipeline_workers.hpp"
#include "pipeline/layer_statistics.hpp"
#include "pipeline/side_stream.hpp"
#include "support/aten_cuda.hpp"

namespace dcomp::actors {
namespace {

const c10::Device kGpu(c10::DeviceType::CUDA, 0);

/// Σ 2·xᵀx in fp64 on the host over `chunks` [tokens, in] fp32: the reference, computed
/// without accumulate_hessian.
at::Tensor reference_hessian(const std::vector<at::Tensor>& chunks, int64_t in) {
  at::Tensor sum = at::zeros({in, in}, at::kDouble);
  for (const auto& chunk : chunks) {
    const at::Tensor x = chunk.to(at::kCPU).to(at::kDouble);
    sum.add_(at::mm(x.t(), x), 2.0);
  }
  return sum;
}

std::vector<at::Tensor> random_chunks(int count, int64_t tokens, int64_t in) {
  at::manual_seed(11);
  std::vector<at::Tensor> chunks;
  for (int k = 0; k < count; ++k) chunks.push_back(at::randn({tokens + 17 * k, in}));  // [tokens, in] fp32
  return chunks;
}

/// Keeps the current stream of `device` busy for tens of milliseconds (fp32 GEMMs).
void keep_stream_busy(c10::Device device) {
  const at::Tensor a = at::randn({4096, 4096}, at::TensorOptions().device(device));
  for (int i = 0; i < 8; ++i) at::mm(a, a);
}

TEST(HessianWorkerStream, CpuJobsGiveTheSerialSumsWithoutAStream) {
  ActorRuntime runtime(2);
  HessianWorker worker(runtime.system(), 2, c10::kCPU);
  EXPECT_FALSE(worker.stream().has_value());
  const auto chunks = random_chunks(4, 64, 48);
  at::Tensor sum64 = at::zeros({48, 48}, at::kDouble);
  for (const auto& chunk : chunks) worker.submit(sum64, chunk);
  worker.drain();
  EXPECT_TRUE(at::allclose(sum64, reference_hessian(chunks, 48), 1e-5, 1e-3));
}

TEST(HessianWorkerStream, SideStreamRunsTheWorkOnAPoolStreamAndRestoresTheThread) {
  DCOMP_ATEN_CUDA_OR_SKIP();
  const c10::impl::VirtualGuardImpl guard_impl(c10::DeviceType::CUDA);
  const pipeline::SideStream side(kGpu);
  ASSERT_TRUE(side.stream().has_value());
  EXPECT_EQ(side.stream()->device(), kGpu);
  EXPECT_NE(*side.stream(), guard_impl.getDefaultStream(kGpu));
  const c10::Stream before = guard_impl.getStream(kGpu);
  c10::Stream during = before;
  side.run(side.hand_off({}), [&] { during = guard_impl.getStream(kGpu); });
  EXPECT_EQ(during, *side.stream());
  EXPECT_EQ(guard_impl.getStream(kGpu), before);
}

TEST(HessianWorkerStream, GpuJobsRunOnTheWorkersStreamAfterTheirInputsAndGiveTheSerialSums) {
  DCOMP_ATEN_CUDA_OR_SKIP();
  const c10::impl::VirtualGuardImpl guard_impl(c10::DeviceType::CUDA);
  ActorRuntime runtime(2);
  HessianWorker worker(runtime.system(), 2, kGpu);
  ASSERT_TRUE(worker.stream().has_value());
  EXPECT_NE(*worker.stream(), guard_impl.getDefaultStream(kGpu));
  EXPECT_NE(*worker.stream(), guard_impl.getStream(kGpu));  // not the pipeline thread's stream either

  const int64_t in = 512;
  const auto chunks = random_chunks(6, 1024, in);
  std::vector<at::Tensor> on_gpu;
  for (const auto& chunk : chunks) on_gpu.push_back(chunk.to(kGpu));
  guard_impl.getStream(kGpu).synchronize();
  at::Tensor sum64 = at::zeros({in, in}, at::TensorOptions().dtype(at::kDouble).device(kGpu));
  for (const auto& chunk : on_gpu) {
    // The producer's stream is busy, then writes the tokens: a job that did not wait for
    // it would read a fresh, unwritten buffer.
    at::Tensor tokens = at::empty_like(chunk);
    keep_stream_busy(kGpu);
    tokens.copy_(chunk);
    worker.submit(sum64, std::move(tokens));
  }
  worker.drain();
  // Read on a stream of its own: only drain() orders this after the worker's GEMMs.
  at::Tensor result;
  {
    const c10::StreamGuard on_reader(guard_impl.getStreamFromGlobalPool(kGpu));
    result = sum64.to(at::kCPU);
  }
  EXPECT_TRUE(at::allclose(result, reference_hessian(chunks, in), 1e-5, 1e-2))
      << "largest difference " << (result - reference_hessian(chunks, in)).abs().max().item<double>();
  // The same GEMMs inline on the default stream: the overlap must not change the rounding
  // (the pipeline's checkpoints do not depend on whether the Hessians overlapped).
  at::Tensor serial = at::zeros({in, in}, at::TensorOptions().dtype(at::kDouble).device(kGpu));
  for (const auto& chunk : on_gpu) pipeline::accumulate_hessian(serial, chunk);
  EXPECT_TRUE(at::equal(result, serial.to(at::kCPU)));
}

}  // namespace
}  // namespace dcomp::actors
