// sparsegpt_prune_tensor against sparsegpt_prune's CPU loop (lazy_batch_update): on CPU
// tensors the masks and pruned weights are bit for bit those of sparsegpt_prune and the
// losses equal, for unstructured and N:M sparsity, shapes that leave a narrower last
// block, dead inputs, ties of saliency, and batches of modules (shared or per-module
// factor) against one module at a time; bad input is refused; on a CUDA device the
// masks equal the CPU's.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <vector>

#include "kernels/quant/inverse_hessian.hpp"
#include "kernels/quant/sparsegpt.hpp"
#include "kernels/quant/sparsegpt_tensor_solve.hpp"
#include "tests/quant/reference_linalg.hpp"

namespace dcomp::quant {
namespace {

struct Module {
  at::Tensor weight;   // [rows, in] fp32, as given to sparsegpt_prune
  at::Tensor hessian;  // [in, in] fp32
  at::Tensor work;     // [rows, in] fp32, dead input columns zeroed
  at::Tensor upper;    // [in, in] fp32 factor, column-major as inverse_hessian_factor returns it
};

// A random module whose Hessian 2XᵀX/n comes from correlated activations X with every
// `dead_every`-th input never firing (0 = none), prepared as sparsegpt_prune prepares it.
Module random_module(int64_t rows, int64_t in, uint64_t seed, int64_t dead_every, const SparseGptOptions& options) {
  at::Tensor x = testing::correlated_inputs(3 * in, in, seed);
  if (dead_every > 0) x.index_fill_(1, at::arange(0, in, dead_every, at::kLong), 0.0f);
  at::manual_seed(seed + 1000);
  Module m;
  m.weight = at::randn({rows, in});
  m.hessian = testing::hessian_of(x);
  at::Tensor h = m.hessian.clone();
  const at::Tensor dead = mask_dead_inputs(h);
  m.work = m.weight.masked_fill(dead.unsqueeze(0), 0.0f);
  m.upper = inverse_hessian_factor(h, options.dampening_frac, options.max_damping_retries).upper;
  return m;
}

void expect_same_as_cpu_loop(const Module& m, const SparseGptOptions& options) {
  const SparseGptResult loop = sparsegpt_prune(m.weight, m.hessian, options);
  const SparseGptTensorResult tensor = sparsegpt_prune_tensor(m.work, m.upper, options);
  ASSERT_EQ(tensor.loss.size(), 1u);
  EXPECT_TRUE(at::equal(tensor.mask, loop.mask)) << (tensor.mask != loop.mask).sum().item<int64_t>()
                                                 << " mask entries differ";
  EXPECT_TRUE(at::equal(tensor.weight, loop.weight))
      << (tensor.weight != loop.weight).sum().item<int64_t>() << " weights differ, max |diff| "
      << (tensor.weight - loop.weight).abs().max().item<float>();
  EXPECT_EQ(tensor.loss[0], loop.loss);
  EXPECT_GT(loop.loss, 0.0);
}

SparseGptOptions unstructured(double sparsity, int64_t block_size) {
  SparseGptOptions o;
  o.sparsity = sparsity;
  o.block_size = block_size;
  return o;
}

SparseGptOptions n_of_m(int n, int m, int64_t block_size) {
  SparseGptOptions o;
  o.prune_n = n;
  o.prune_m = m;
  o.block_size = block_size;
  return o;
}

TEST(SparseGptTensorSolve, UnstructuredIsBitIdenticalToTheCpuLoop) {
  struct Shape { int64_t rows, in, block; };
  for (const Shape s : {Shape{24, 64, 16}, Shape{37, 100, 32}, Shape{17, 40, 128}, Shape{64, 256, 128}}) {
    SCOPED_TRACE("rows " + std::to_string(s.rows) + " in " + std::to_string(s.in) + " block " + std::to_string(s.block));
    const SparseGptOptions options = unstructured(0.5, s.block);
    expect_same_as_cpu_loop(random_module(s.rows, s.in, 11 + s.in, 0, options), options);
    expect_same_as_cpu_loop(random_module(s.rows, s.in, 12 + s.in, 7, options), options);
  }
  const SparseGptOptions options = unstructured(0.7, 20);  // 0.7 of a 20-column block; last block of 4
  expect_same_as_cpu_loop(random_module(30, 84, 5, 5, options), options);
}

TEST(SparseGptTensorSolve, TwoFourIsBitIdenticalToTheCpuLoop) {
  const SparseGptOptions options = n_of_m(2, 4, 16);
  expect_same_as_cpu_loop(random_module(20, 64, 21, 0, options), options);
  expect_same_as_cpu_loop(random_module(50, 128, 22, 9, options), options);
  const SparseGptOptions wide = n_of_m(2, 4, 128);
  expect_same_as_cpu_loop(random_module(33, 384, 23, 6, wide), wide);
}

TEST(SparseGptTensorSolve, FourEightIsBitIdenticalToTheCpuLoop) {
  const SparseGptOptions options = n_of_m(4, 8, 32);
  expect_same_as_cpu_loop(random_module(33, 96, 31, 0, options), options);
  expect_same_as_cpu_loop(random_module(18, 160, 32, 11, options), options);
}

// Integer weights and H = I: saliencies tie everywhere, so the tie rules decide the mask
// (N:M: the lower column; unstructured: every weight equal to the threshold is pruned).
TEST(SparseGptTensorSolve, TiesAreBrokenAsTheCpuLoop) {
  at::manual_seed(41);
  Module m;
  m.weight = at::randint(-2, 3, {21, 64}).to(at::kFloat);
  m.hessian = at::eye(64, at::kFloat);
  m.work = m.weight;
  for (const SparseGptOptions& options : {n_of_m(2, 4, 16), n_of_m(4, 8, 32), unstructured(0.5, 16)}) {
    at::Tensor h = m.hessian.clone();
    mask_dead_inputs(h);
    m.upper = inverse_hessian_factor(h, options.dampening_frac, options.max_damping_retries).upper;
    expect_same_as_cpu_loop(m, options);
  }
}

// E modules of the same shape, solved as one batch and one at a time.
void expect_batch_equals_one_at_a_time(const std::vector<Module>& modules, bool shared_upper,
                                       const SparseGptOptions& options) {
  std::vector<at::Tensor> works;
  std::vector<at::Tensor> uppers;
  for (const Module& m : modules) {
    works.push_back(m.work);
    uppers.push_back(shared_upper ? modules[0].upper : m.upper);
  }
  const at::Tensor upper = shared_upper ? modules[0].upper : at::stack(uppers);
  const SparseGptTensorResult batch = sparsegpt_prune_tensor(at::stack(works), upper, options);
  ASSERT_EQ(batch.loss.size(), modules.size());
  for (size_t e = 0; e < modules.size(); ++e) {
    SCOPED_TRACE("module " + std::to_string(e));
    const SparseGptTensorResult one = sparsegpt_prune_tensor(works[e], uppers[e], options);
    EXPECT_TRUE(at::equal(batch.mask[static_cast<int64_t>(e)], one.mask));
    EXPECT_TRUE(at::equal(batch.weight[static_cast<int64_t>(e)], one.weight));
    EXPECT_EQ(batch.loss[e], one.loss[0]);
    if (!shared_upper) {  // each module's own Hessian: also the CPU loop's result
      const SparseGptResult loop = sparsegpt_prune(modules[e].weight, modules[e].hessian, options);
      EXPECT_TRUE(at::equal(batch.weight[static_cast<int64_t>(e)], loop.weight));
      EXPECT_EQ(batch.loss[e], loop.loss);
    }
  }
}

TEST(SparseGptTensorSolve, BatchOfModulesEqualsOneAtATime) {
  for (const SparseGptOptions& options : {n_of_m(2, 4, 32), unstructured(0.5, 32)}) {
    std::vector<Module> modules;
    for (uint64_t e = 0; e < 4; ++e) modules.push_back(random_module(40, 136, 50 + e, e == 2 ? 5 : 0, options));
    expect_batch_equals_one_at_a_time(modules, /*shared_upper=*/true, options);
    expect_batch_equals_one_at_a_time(modules, /*shared_upper=*/false, options);
  }
  // Products under 400 multiply-adds per module, where ATen's baddbmm_ leaves the BLAS.
  const SparseGptOptions small = n_of_m(2, 4, 4);
  std::vector<Module> modules;
  for (uint64_t e = 0; e < 3; ++e) modules.push_back(random_module(5, 16, 80 + e, 0, small));
  expect_batch_equals_one_at_a_time(modules, /*shared_upper=*/true, small);
  expect_batch_equals_one_at_a_time(modules, /*shared_upper=*/false, small);
}

void expect_rejected(const at::Tensor& work, const at::Tensor& upper, const SparseGptOptions& options,
                     const std::string& fragment) {
  try {
    sparsegpt_prune_tensor(work, upper, options);
    ADD_FAILURE() << "accepted; expected an error containing '" << fragment << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(SparseGptTensorSolve, PruneBatchOnTheCpuIsThePruneLoop) {
  // sparsegpt_prune_batch: Hessians factorized with ATen's linear algebra where the weights
  // go, shared or one per weight; every result that of sparsegpt_prune alone.
  for (const SparseGptOptions& options : {n_of_m(2, 4, 32), unstructured(0.5, 32)}) {
    std::vector<Module> modules;
    for (uint64_t e = 0; e < 3; ++e) modules.push_back(random_module(24, 96, 70 + e, e == 1 ? 5 : 0, options));
    for (const bool shared : {true, false}) {
      std::vector<at::Tensor> weights, hessians;
      for (const Module& m : modules) {
        weights.push_back(m.weight);
        if (!shared || hessians.empty()) hessians.push_back(m.hessian);
      }
      const std::vector<SparseGptResult> batch = sparsegpt_prune_batch(weights, hessians, options, c10::kCPU);
      ASSERT_EQ(batch.size(), modules.size());
      for (size_t e = 0; e < modules.size(); ++e) {
        const SparseGptResult alone = sparsegpt_prune(modules[e].weight, hessians[shared ? 0 : e], options);
        EXPECT_TRUE(at::equal(batch[e].mask, alone.mask)) << "module " << e << (shared ? " shared" : " own");
        EXPECT_TRUE(at::equal(batch[e].weight, alone.weight))
            << "module " << e << (shared ? " shared" : " own") << ": "
            << (batch[e].weight != alone.weight).sum().item<int64_t>() << " weights differ";
        EXPECT_EQ(batch[e].loss, alone.loss);
        EXPECT_EQ(batch[e].damping, alone.damping);
      }
    }
  }
  EXPECT_THROW(sparsegpt_prune_batch({at::randn({4, 8}), at::randn({4, 9})}, {at::eye(8)}, n_of_m(2, 4, 4), c10::kCPU),
               std::invalid_argument);
  EXPECT_THROW(sparsegpt_prune_batch({at::randn({4, 8})}, {at::eye(8), at::eye(8)}, n_of_m(2, 4, 4), c10::kCPU),
               std::invalid_argument);
}

TEST(SparseGptTensorSolve, RejectsBadInput) {
  const SparseGptOptions options = n_of_m(2, 4, 16);
  const Module m = random_module(8, 32, 61, 0, options);
  const at::Tensor upper = m.upper;
  expect_rejected(m.work.to(at::kDouble), upper, options, "expected a non-empty fp32 work");
  expect_rejected(m.work.flatten(), upper, options, "expected a non-empty fp32 work");
  expect_rejected(at::empty({0, 32}), upper, options, "expected a non-empty fp32 work");
  expect_rejected(m.work, upper.narrow(0, 0, 16), options, "expected an fp32 factor [32, 32] for work [8, 32]");
  expect_rejected(m.work, upper.to(at::kDouble), options, "got Double [32, 32]");
  expect_rejected(m.work, at::Tensor(), options, "an undefined tensor");
  expect_rejected(m.work, at::stack({upper, upper}), options, "expected an fp32 factor");
  expect_rejected(at::stack({m.work, m.work, m.work}), at::stack({upper, upper}), options,
                  "or [3, 32, 32] for work [3, 8, 32]");
  expect_rejected(m.work, at::empty({32, 32}, at::TensorOptions().device(at::kMeta)), options,
                  "work is on cpu but the factor is on meta");
  expect_rejected(m.work.clone().index_put_({0, 3}, NAN), upper, options, "work contains NaN or infinite values");
  expect_rejected(m.work, upper * 0.0f, options, "positive diagonal");
  expect_rejected(m.work, upper.clone().index_put_({1, 2}, INFINITY), options, "positive diagonal");
  expect_rejected(m.work, upper, n_of_m(2, 4, 18), "M = 4 must divide block_size 18");
  expect_rejected(m.work, upper, n_of_m(4, 4, 16), "N:M structure needs 0 < N < M, got 4:4");
  expect_rejected(m.work, upper, unstructured(1.0, 16), "sparsity must be in [0, 1)");
  expect_rejected(m.work, upper, unstructured(0.5, 0), "block_size must be positive");
  const at::Tensor before = m.work.clone();
  sparsegpt_prune_tensor(m.work, upper, options);
  EXPECT_TRUE(at::equal(m.work, before)) << "the input was modified";
}

TEST(SparseGptTensorSolve, CudaMatchesTheCpu) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device: this LibTorch or machine has none";
  const at::Device cuda(at::kCUDA, 0);
  for (const SparseGptOptions& options : {n_of_m(2, 4, 128), unstructured(0.5, 128)}) {
    std::vector<at::Tensor> works;
    std::vector<at::Tensor> uppers;
    for (uint64_t e = 0; e < 3; ++e) {
      const Module m = random_module(96, 320, 70 + e, e == 1 ? 9 : 0, options);
      works.push_back(m.work);
      uppers.push_back(m.upper);
    }
    const at::Tensor work = at::stack(works);
    const at::Tensor upper = at::stack(uppers);
    const SparseGptTensorResult cpu = sparsegpt_prune_tensor(work, upper, options);
    const SparseGptTensorResult gpu = sparsegpt_prune_tensor(work.to(cuda), upper.to(cuda), options);
    ASSERT_TRUE(gpu.weight.is_cuda());
    const at::Tensor weight = gpu.weight.cpu();
    const double differing = (weight != cpu.weight).to(at::kDouble).mean().item<double>();
    std::cout << "[ INFO     ] " << (options.prune_n ? "2:4" : "unstructured 50%") << ": CUDA weights differing from CPU "
              << differing * 100.0 << " %, max |diff| " << (weight - cpu.weight).abs().max().item<float>() << "\n";
    EXPECT_TRUE(at::equal(gpu.mask.cpu(), cpu.mask));
    EXPECT_TRUE(at::allclose(weight, cpu.weight, 1e-4, 1e-4));
    for (size_t e = 0; e < cpu.loss.size(); ++e) EXPECT_NEAR(gpu.loss[e], cpu.loss[e], 1e-4 * cpu.loss[e]);
  }
}

}  // namespace
}  // namespace dcomp::quant
