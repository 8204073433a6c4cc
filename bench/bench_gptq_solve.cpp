// The GPTQ solve of one Linear: dcomp::quant::gptq_quantize versus a plain LibTorch
// transcription of the upstream column loop (llm-compressor gptq_quantize.py,
// quantize_weight: per-column tensor ops, outer-product updates inside each block of
// 128 columns and one matmul per block), on the same weight, Hessian and scales.
// Both run in fp32 with the same thread count; the integer codes are compared.
//
// Default problem: W4A16 (INT4 symmetric, group 128, actorder static), weights
// [4096, 4096] and [11008, 4096], a Hessian [4096, 4096] from 8192 correlated tokens.
//
// Usage: bench_gptq_solve [threads (default 2)] [in_features (default 4096)] [out_features...]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "kernels/quant/gptq.hpp"
#include "kernels/quant/observers.hpp"
#include "tests/quant/upstream_gptq_loop.hpp"
#include "kernels/platform/blas_core_restart.hpp"

namespace {

using dcomp::quant::QParams;
using dcomp::quant::QuantizationArgs;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Inputs with a few shared directions and uneven channel scales: x [tokens, in].
at::Tensor calibration_inputs(int64_t tokens, int64_t in) {
  const at::Tensor shared = at::mm(at::randn({tokens, 64}), at::randn({64, in})) * 0.5;
  return (at::randn({tokens, in}) + shared) * at::linspace(0.1, 2.0, in);
}

}  // namespace

int main(int argc, char** argv) {
  dcomp::platform::ensure_best_blas_core(argc, argv);
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int64_t in = argc > 2 ? std::atoll(argv[2]) : 4096;
  std::vector<int64_t> outs;
  for (int i = 3; i < argc; ++i) outs.push_back(std::atoll(argv[i]));
  if (outs.empty()) outs = {4096, 11008};
  if (threads <= 0 || in <= 0) {
    std::fprintf(stderr, "usage: bench_gptq_solve [threads] [in_features] [out_features...]\n");
    return 2;
  }
  at::set_num_threads(threads);
  at::manual_seed(0);

  QuantizationArgs args;
  args.num_bits = 4;
  args.symmetric = true;
  args.strategy = dcomp::quant::Strategy::Group;
  args.group_size = 128;
  args.actorder = dcomp::quant::ActOrder::Static;
  const int64_t block_size = 128;
  const double percdamp = 0.01;

  auto start = std::chrono::steady_clock::now();
  const at::Tensor x = calibration_inputs(2 * in, in);
  const at::Tensor hessian = at::mm(x.t(), x) * (2.0 / static_cast<double>(x.size(0)));
  std::printf("threads %d; Hessian [%lld, %lld] from %lld tokens in %.2f s\n", threads, static_cast<long long>(in),
              static_cast<long long>(in), static_cast<long long>(x.size(0)), seconds_since(start));
  std::printf("%-14s %12s %14s %8s %16s   %s\n", "weight", "dcomp [s]", "transcribed [s]", "ratio", "codes differing",
              "dcomp split: factorization + column loop + rest [s]");

  for (const int64_t out : outs) {
    const at::Tensor weight = at::randn({out, in}) * 0.02;
    dcomp::quant::GptqOptions options;
    options.block_size = block_size;
    options.dampening_frac = percdamp;

    start = std::chrono::steady_clock::now();
    const dcomp::quant::GptqResult result = dcomp::quant::gptq_quantize(weight, hessian, args, options);
    const double ours = seconds_since(start);

    const QParams qparams = dcomp::quant::observe_weight(weight, args);
    start = std::chrono::steady_clock::now();
    const at::Tensor reference = dcomp::quant::testing::upstream_codes(weight, hessian, qparams, args, block_size, percdamp);
    const double theirs = seconds_since(start);

    const int64_t differing = result.codes.ne(reference).sum().item<int64_t>();
    const std::string shape = "[" + std::to_string(out) + ", " + std::to_string(in) + "]";
    std::printf("%-14s %12.2f %14.2f %8.2f %9lld of %lld   %.2f + %.2f + %.2f\n", shape.c_str(), ours, theirs,
                theirs / ours, static_cast<long long>(differing), static_cast<long long>(weight.numel()),
                result.factorization_seconds, result.column_loop_seconds,
                ours - result.factorization_seconds - result.column_loop_seconds);
    std::fflush(stdout);
  }
  return 0;
}
