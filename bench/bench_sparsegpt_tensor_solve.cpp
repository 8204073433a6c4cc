// SparseGPT 2:4 column loop: sparsegpt_prune (raw-pointer loop, lazy_batch_update) against
// sparsegpt_prune_tensor (ATen tensor operations) one module at a time and as one batch,
// on the CPU, with every result compared bit for bit (weights, masks, losses).
//
// Problems: one [2048, 2048] module; 8 experts' gate_proj [768, 2048] sharing one Hessian
// (every calibration token through every expert), batched with the shared factor and with
// the factor repeated per module. Hessians from 4096 correlated tokens.
// sparsegpt_prune includes the factorization; the tensor solves start from the factor, so
// the factorization's own time is printed too, and "loop" compares the column loops alone.
//
// Usage: bench_sparsegpt_tensor_solve [threads (default 2)] [repeats (default 2)]

#include <cstdio>
#include <cstdlib>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "bench/bench_problems.hpp"
#include "bench/bench_timing.hpp"
#include "kernels/platform/blas_core_restart.hpp"
#include "kernels/quant/inverse_hessian.hpp"
#include "kernels/quant/sparsegpt.hpp"
#include "kernels/quant/sparsegpt_tensor_solve.hpp"

namespace {

using dcomp::bench::calibration_hessian;

using dcomp::quant::SparseGptOptions;
using dcomp::quant::SparseGptResult;
using dcomp::quant::SparseGptTensorResult;

at::Tensor upper_factor(const at::Tensor& hessian, const SparseGptOptions& options) {
  at::Tensor h = hessian.clone();
  dcomp::quant::mask_dead_inputs(h);
  return dcomp::quant::inverse_hessian_factor(h, options.dampening_frac, options.max_damping_retries).upper;
}

bool same(const SparseGptResult& loop, const at::Tensor& weight, const at::Tensor& mask, double loss) {
  return at::equal(loop.weight, weight) && at::equal(loop.mask, mask) && loop.loss == loss;
}

// One module: the CPU loop, the factorization alone, and the tensor solve from the factor.
bool bench_one_module(const SparseGptOptions& options, int repeats) {
  const int64_t rows = 2048, in = 2048;
  const at::Tensor hessian = calibration_hessian(4096, in);
  const at::Tensor weight = at::randn({rows, in}) / 45.0;
  SparseGptResult loop;
  at::Tensor upper;
  SparseGptTensorResult tensor;
  const double loop_s = dcomp::bench::best_seconds([&] { loop = dcomp::quant::sparsegpt_prune(weight, hessian, options); }, repeats);
  const double factor_s = dcomp::bench::best_seconds([&] { upper = upper_factor(hessian, options); }, repeats);
  const double tensor_s =
      dcomp::bench::best_seconds([&] { tensor = dcomp::quant::sparsegpt_prune_tensor(weight, upper, options); }, repeats);
  const bool identical = same(loop, tensor.weight, tensor.mask, tensor.loss[0]);
  std::printf("one module [%lld, %lld]\n", static_cast<long long>(rows), static_cast<long long>(in));
  std::printf("  sparsegpt_prune (factorization + CPU loop): %8.3f s\n", loop_s);
  std::printf("    of which the factorization:              %8.3f s\n", factor_s);
  std::printf("  sparsegpt_prune_tensor (loop only):         %8.3f s   loop %.2fx\n", tensor_s,
              (loop_s - factor_s) / tensor_s);
  std::printf("  results %s\n", identical ? "identical" : "DIFFERENT");
  return identical;
}

// E experts sharing one Hessian: E CPU loops, E tensor solves, one batched solve (shared
// factor, then the factor repeated per module).
bool bench_experts(const SparseGptOptions& options, int experts, int repeats) {
  const int64_t rows = 768, in = 2048;
  const at::Tensor hessian = calibration_hessian(4096, in);
  std::vector<at::Tensor> weights;
  for (int e = 0; e < experts; ++e) weights.push_back(at::randn({rows, in}) / 45.0);
  const at::Tensor batch = at::stack(weights);  // [E, rows, in]
  std::vector<SparseGptResult> loops(weights.size());
  std::vector<SparseGptTensorResult> alone(weights.size());
  SparseGptTensorResult shared, per_module;
  const double loop_s = dcomp::bench::best_seconds(
      [&] {
        for (size_t e = 0; e < weights.size(); ++e) loops[e] = dcomp::quant::sparsegpt_prune(weights[e], hessian, options);
      },
      repeats);
  at::Tensor upper;
  const double factor_s = dcomp::bench::best_seconds([&] { upper = upper_factor(hessian, options); }, repeats);
  const at::Tensor uppers = upper.unsqueeze(0).expand({experts, in, in});
  const double alone_s = dcomp::bench::best_seconds(
      [&] {
        for (size_t e = 0; e < weights.size(); ++e) alone[e] = dcomp::quant::sparsegpt_prune_tensor(weights[e], upper, options);
      },
      repeats);
  const double shared_s =
      dcomp::bench::best_seconds([&] { shared = dcomp::quant::sparsegpt_prune_tensor(batch, upper, options); }, repeats);
  const double per_module_s =
      dcomp::bench::best_seconds([&] { per_module = dcomp::quant::sparsegpt_prune_tensor(batch, uppers, options); }, repeats);
  bool identical = true;
  for (size_t e = 0; e < weights.size(); ++e) {
    const auto i = static_cast<int64_t>(e);
    identical = identical && same(loops[e], alone[e].weight, alone[e].mask, alone[e].loss[0]) &&
                same(loops[e], shared.weight[i], shared.mask[i], shared.loss[e]) &&
                same(loops[e], per_module.weight[i], per_module.mask[i], per_module.loss[e]);
  }
  std::printf("%d experts [%lld, %lld], one Hessian\n", experts, static_cast<long long>(rows), static_cast<long long>(in));
  std::printf("  sparsegpt_prune, one at a time (%d factorizations): %8.3f s\n", experts, loop_s);
  std::printf("    of which the factorizations:                     %8.3f s\n", experts * factor_s);
  std::printf("  sparsegpt_prune_tensor, one at a time:              %8.3f s   loop %.2fx\n", alone_s,
              (loop_s - experts * factor_s) / alone_s);
  std::printf("  sparsegpt_prune_tensor, batch, shared U:            %8.3f s   %.2fx one at a time, loop %.2fx\n",
              shared_s, alone_s / shared_s, (loop_s - experts * factor_s) / shared_s);
  std::printf("  sparsegpt_prune_tensor, batch, one U per module:    %8.3f s   %.2fx one at a time\n", per_module_s,
              alone_s / per_module_s);
  std::printf("  results %s\n", identical ? "identical" : "DIFFERENT");
  return identical;
}

}  // namespace

int main(int argc, char** argv) {
  dcomp::platform::ensure_best_blas_core(argc, argv);
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 2;
  if (threads <= 0 || repeats <= 0) {
    std::fprintf(stderr, "usage: bench_sparsegpt_tensor_solve [threads] [repeats]\n");
    return 2;
  }
  at::set_num_threads(threads);
  at::manual_seed(0);
  std::printf("SparseGPT 2:4 (block 128), %d thread(s), BLAS: %s\n", threads,
              dcomp::platform::describe_blas_core(dcomp::platform::blas_core_status()).c_str());
  SparseGptOptions options;
  options.prune_n = 2;
  options.prune_m = 4;
  const bool one = bench_one_module(options, repeats);
  const bool experts = bench_experts(options, 8, repeats);
  return one && experts ? 0 : 1;
}
