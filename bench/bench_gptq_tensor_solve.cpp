// GPTQ's column loop three ways on one device, side by side: the AVX-512 host loop one module
// at a time (the CPU default), the ATen tensor-ops loop one module at a time (the GPU path's
// code), and the tensor-ops loop over a stack of same-shape modules (every expert's gate/up
// projection sharing the router input's factorization). Checks that all three give the same
// codes (on the CPU bit for bit; on a GPU against the host loop, the differing fraction).
//
// Default problem: Qwen3-30B-A3B's expert gate/up [768, 2048], W4A16 (INT4 symmetric, group
// 128, actorder static), 8 experts (16 solves), a Hessian from 4096 correlated tokens. On a GPU
// also a dense 4096 × 4096 and a 14336 × 4096 (Llama-3-8B down_proj transposed) module.
//
// Usage: bench_gptq_tensor_solve [device: cpu|cuda (default cpu)] [threads (default 1)] [experts (default 8)]

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "bench/bench_problems.hpp"
#include "bench/bench_timing.hpp"
#include "kernels/platform/blas_core_restart.hpp"
#include "kernels/quant/gptq.hpp"

namespace {

using dcomp::bench::calibration_hessian;
using dcomp::quant::GptqFactorization;
using dcomp::quant::GptqOptions;
using dcomp::quant::GptqResult;

double differing_fraction(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  double differing = 0, total = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    differing += a[i].ne(b[i]).sum().item<double>();
    total += static_cast<double>(a[i].numel());
  }
  return differing / total;
}

// One shape: the three loops, their times and whether their codes agree.
void compare(const char* label, int64_t rows, int64_t in, int modules, const at::Tensor& hessian,
             const dcomp::quant::QuantizationArgs& args, c10::Device device, int repeats) {
  std::vector<at::Tensor> weights;
  for (int i = 0; i < modules; ++i) weights.push_back(at::randn({rows, in}) / 45.0);
  GptqOptions host;
  GptqOptions tensor;
  tensor.solver = dcomp::quant::GptqSolver::TensorOps;
  tensor.device = device;
  std::vector<at::Tensor> host_codes(weights.size()), alone_codes(weights.size()), stacked_codes(weights.size());
  const GptqFactorization host_factor = dcomp::quant::gptq_factorize(hessian, args.actorder, host);
  const GptqFactorization device_factor = dcomp::quant::gptq_factorize(hessian, args.actorder, tensor);
  const double host_seconds = dcomp::bench::best_seconds(
      [&] {
        for (size_t i = 0; i < weights.size(); ++i) {
          host_codes[i] = dcomp::quant::gptq_quantize(weights[i], hessian, args, host, {}, &host_factor).codes;
        }
      },
      repeats);
  const double alone_seconds = dcomp::bench::best_seconds(
      [&] {
        for (size_t i = 0; i < weights.size(); ++i) {
          alone_codes[i] = dcomp::quant::gptq_quantize(weights[i], hessian, args, tensor, {}, &device_factor).codes;
        }
      },
      repeats);
  const double stacked_seconds = dcomp::bench::best_seconds(
      [&] {
        const std::vector<GptqResult> results =
            dcomp::quant::gptq_quantize_batch(weights, args, tensor, {&device_factor});
        for (size_t i = 0; i < results.size(); ++i) stacked_codes[i] = results[i].codes;
      },
      repeats);
  std::printf("%-34s %3d × [%5lld, %5lld]  host loop %8.3f s  tensor ops alone %8.3f s (%.2fx)  stacked %8.3f s "
              "(%.2fx of alone)\n",
              label, modules, static_cast<long long>(rows), static_cast<long long>(in), host_seconds, alone_seconds,
              host_seconds / alone_seconds, stacked_seconds, alone_seconds / stacked_seconds);
  std::printf("%-34s codes differing from the host loop: alone %.4f %%, stacked %.4f %%; stacked vs alone %.4f %%\n",
              "", 100 * differing_fraction(host_codes, alone_codes), 100 * differing_fraction(host_codes, stacked_codes),
              100 * differing_fraction(alone_codes, stacked_codes));
}

}  // namespace

int main(int argc, char** argv) {
  dcomp::platform::ensure_best_blas_core(argc, argv);
  const std::string device_name = argc > 1 ? argv[1] : "cpu";
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  const int experts = argc > 3 ? std::atoi(argv[3]) : 8;
  if (device_name != "cpu" && device_name != "cuda") {
    std::fprintf(stderr, "bench_gptq_tensor_solve: device must be cpu or cuda, not %s\n", device_name.c_str());
    return 2;
  }
  if (device_name == "cuda" && !at::hasCUDA()) {
    std::printf("SKIP: no CUDA device (this LibTorch has no CUDA or the machine no GPU)\n");
    return 0;
  }
  const c10::Device device = device_name == "cuda" ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  at::set_num_threads(threads);
  at::manual_seed(0);
  std::printf("%s; device %s, %d thread(s)\n",
              dcomp::platform::describe_blas_core(dcomp::platform::blas_core_status()).c_str(), device.str().c_str(),
              threads);
  const dcomp::quant::QuantizationArgs args = dcomp::bench::w4a16_group128_static();
  compare("expert gate/up, shared factor", 768, 2048, 2 * experts, calibration_hessian(4096, 2048), args, device, 2);
  if (device.is_cuda()) {
    compare("dense 4096 x 4096", 4096, 4096, 1, calibration_hessian(8192, 4096), args, device, 1);
    compare("14336 x 4096 (Llama-3-8B gate/up)", 14336, 4096, 1, calibration_hessian(8192, 4096), args, device, 1);
  }
  return 0;
}
