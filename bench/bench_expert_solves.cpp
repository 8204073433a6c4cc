// The GPTQ solves of one mixture-of-experts layer's gate/up projections, one at a time
// against sharing the inverse-Hessian factorization between the Linears that read the same
// input. When every calibration token goes through every expert (llm-compressor's
// moe_calibrate_all_experts, dcomp's default), all experts' gate/up read the router's input:
// one Hessian, one factorization, 2·E column loops. With routed tokens, each expert's gate and
// up still share theirs (E factorizations for 2·E solves). Codes are compared bit for bit.
//
// Default problem: Qwen3-30B-A3B's expert shape, gate/up [768, 2048], W4A16 (INT4 symmetric,
// group 128, actorder static), 8 experts, a Hessian from 4096 correlated tokens.
//
// Usage: bench_expert_solves [threads (default 1)] [experts (default 8)]

#include <cstdio>
#include <cstdlib>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "bench/bench_problems.hpp"
#include "bench/bench_timing.hpp"
#include "kernels/quant/gptq.hpp"
#include "kernels/platform/blas_core_restart.hpp"

using dcomp::bench::calibration_hessian;

int main(int argc, char** argv) {
  dcomp::platform::ensure_best_blas_core(argc, argv);
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const int experts = argc > 2 ? std::atoi(argv[2]) : 8;
  at::set_num_threads(threads);
  at::manual_seed(0);
  const int64_t hidden = 2048, intermediate = 768;
  const dcomp::quant::QuantizationArgs args = dcomp::bench::w4a16_group128_static();
  const at::Tensor hessian = calibration_hessian(4096, hidden);  // [2048, 2048] fp32
  std::vector<at::Tensor> weights;                               // 2·E of [768, 2048]
  for (int i = 0; i < 2 * experts; ++i) weights.push_back(at::randn({intermediate, hidden}) / 45.0);

  std::vector<at::Tensor> alone(weights.size()), shared(weights.size());
  const double one_at_a_time = dcomp::bench::best_seconds(
      [&] {
        for (size_t i = 0; i < weights.size(); ++i) alone[i] = dcomp::quant::gptq_quantize(weights[i], hessian, args).codes;
      },
      2);
  const double with_shared = dcomp::bench::best_seconds(
      [&] {
        const auto factorization = dcomp::quant::gptq_factorize(hessian, args.actorder);
        for (size_t i = 0; i < weights.size(); ++i) {
          shared[i] = dcomp::quant::gptq_quantize(weights[i], hessian, args, {}, {}, &factorization).codes;
        }
      },
      2);
  // Routed tokens: each expert has its own Hessian, which its gate and up share.
  const double per_expert = dcomp::bench::best_seconds(
      [&] {
        for (int e = 0; e < experts; ++e) {
          const auto factorization = dcomp::quant::gptq_factorize(hessian, args.actorder);
          for (int j = 0; j < 2; ++j) dcomp::quant::gptq_quantize(weights[2 * e + j], hessian, args, {}, {}, &factorization);
        }
      },
      2);
  bool identical = true;
  for (size_t i = 0; i < weights.size(); ++i) identical = identical && at::equal(alone[i], shared[i]);
  std::printf("GPTQ W4A16 g128 of %d experts' gate/up [%lld, %lld], %d thread(s)\n", experts,
              static_cast<long long>(intermediate), static_cast<long long>(hidden), threads);
  std::printf("  one factorization per Linear (%zu):      %8.2f s\n", weights.size(), one_at_a_time);
  std::printf("  one per expert (routed tokens, %d):       %8.2f s   %.2fx\n", experts, per_expert,
              one_at_a_time / per_expert);
  std::printf("  one for the layer (every token, 1):      %8.2f s   %.2fx\n", with_shared, one_at_a_time / with_shared);
  std::printf("  codes %s\n", identical ? "identical" : "DIFFERENT");
  return identical ? 0 : 1;
}
