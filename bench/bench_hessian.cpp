// Hessian accumulation throughput against at::mm on the same shapes, measured
// side by side in one run. FLOPs counted: 2·tokens·in² for both (the full
// product xᵀx, not the symmetric half).
// Usage: bench_hessian [threads]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>

#include "pipeline/layer_statistics.hpp"
#include "bench/bench_timing.hpp"
#include "kernels/platform/blas_core_restart.hpp"

using dcomp::bench::best_seconds;

int main(int argc, char** argv) {
  dcomp::platform::ensure_best_blas_core(argc, argv);
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  at::set_num_threads(threads);
  std::cout << "Hessian accumulation vs at::mm, " << threads << " thread(s), best of 3\n"
            << "BLAS: " << dcomp::platform::describe_blas_core(dcomp::platform::blas_core_status()) << "\n";
  std::cout << std::setw(8) << "tokens" << std::setw(8) << "in" << std::setw(14) << "at::mm GF/s" << std::setw(16)
            << "hessian GF/s" << std::setw(10) << "ratio" << "\n";
  const std::pair<int64_t, int64_t> shapes[] = {{4096, 1024}, {4096, 2816}, {8192, 4096}};
  for (const auto& [tokens, in] : shapes) {
    at::Tensor x = at::randn({tokens, in}, at::kFloat);
    at::Tensor sum64 = at::zeros({in, in}, at::kDouble);
    const double flops = 2.0 * static_cast<double>(tokens) * static_cast<double>(in) * static_cast<double>(in);
    at::Tensor warm = at::mm(x.t(), x);
    const double mm = best_seconds([&] { warm = at::mm(x.t(), x); }, 3);
    const double hessian = best_seconds([&] { dcomp::pipeline::accumulate_hessian(sum64, x); }, 3);
    std::cout << std::setw(8) << tokens << std::setw(8) << in << std::fixed << std::setprecision(1) << std::setw(14)
              << flops / mm / 1e9 << std::setw(16) << flops / hessian / 1e9 << std::setprecision(3) << std::setw(10)
              << mm / hessian << "\n";
  }
  return 0;
}
