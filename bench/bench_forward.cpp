// The forward pass against at::mm, side by side in one run: for each model given (e.g.
// an F32 and a BF16 checkpoint of the same model), the time of one window of `tokens`
// tokens through every decoder layer and the LM head, its tokens/s and achieved GFLOP/s,
// and the rate at::mm reaches on the same GEMM shapes (the Linears' [tokens, in] × [in, out],
// and the LM head) measured just before. FLOPs counted: 2·tokens·in·out per Linear and
// for the head, and 4·heads·head_dim·Σ_i (keys query i sees) for attention (the causal
// half: QKᵀ and PV).
// Usage: bench_forward TOKENS MODEL_DIR [MODEL_DIR...]   (threads: OMP_NUM_THREADS, else all)
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "kernels/ct/compressed_checkpoint.hpp"
#include "kernels/model/causal_lm.hpp"
#include "kernels/model/compute_threads.hpp"
#include "kernels/model/embedding_and_head.hpp"
#include "bench/bench_timing.hpp"
#include "kernels/platform/blas_core_restart.hpp"

namespace {

using dcomp::bench::best_seconds;

using dcomp::model::ModelConfig;

struct GemmShape {
  int64_t in, out, count;  // count: how many of this shape per forward
};

// The Linears of every layer, and the LM head, as [tokens, in] × [in, out] GEMMs.
std::vector<GemmShape> gemm_shapes(const ModelConfig& c) {
  const int64_t layers = c.num_hidden_layers;
  const int64_t q_out = c.num_attention_heads * c.head_dim;
  const int64_t kv_out = c.num_key_value_heads * c.head_dim;
  return {{c.hidden_size, q_out, layers},           {c.hidden_size, kv_out, 2 * layers},
          {q_out, c.hidden_size, layers},           {c.hidden_size, c.intermediate_size, 2 * layers},
          {c.intermediate_size, c.hidden_size, layers}, {c.hidden_size, c.vocab_size, 1}};
}

double attention_flops(const ModelConfig& c, int64_t tokens) {
  const double visible = static_cast<double>(tokens) * static_cast<double>(tokens + 1) / 2.0;  // Σ_i (i + 1)
  return 4.0 * static_cast<double>(c.num_attention_heads * c.head_dim) * visible *
         static_cast<double>(c.num_hidden_layers);
}

}  // namespace

int main(int argc, char** argv) {
  dcomp::platform::ensure_best_blas_core(argc, argv);
  if (argc < 3) {
    std::cerr << "usage: bench_forward TOKENS MODEL_DIR [MODEL_DIR...]\n";
    return 2;
  }
  const int64_t tokens = std::atoll(argv[1]);
  const int threads = dcomp::model::set_default_compute_threads();
  std::cout << "forward of one window of " << tokens << " tokens, " << threads << " thread(s), best of 3\n";
  std::cout << std::left << std::setw(34) << "model" << std::right << std::setw(10) << "seconds" << std::setw(12)
            << "tokens/s" << std::setw(13) << "GFLOP/s" << std::setw(15) << "at::mm GF/s" << std::setw(10) << "ratio"
            << "\n";
  for (int i = 2; i < argc; ++i) {
    const std::string dir = argv[i];
    const auto model = dcomp::model::CausalLM::load(dir, dcomp::ct::make_linear_loader(dir));
    const ModelConfig& config = model.config();
    // at::mm on the same shapes, in fp32 (what the forward computes in).
    double gemm_flops = 0, gemm_seconds = 0;
    for (const GemmShape& shape : gemm_shapes(config)) {
      const at::Tensor x = at::randn({tokens, shape.in});
      const at::Tensor w = at::randn({shape.out, shape.in});
      const double seconds = best_seconds([&] { at::mm(x, w.t()); }, 3);
      const double flops = 2.0 * static_cast<double>(tokens * shape.in * shape.out);
      gemm_flops += flops * static_cast<double>(shape.count);
      gemm_seconds += seconds * static_cast<double>(shape.count);
    }
    const at::Tensor ids = at::randint(0, config.vocab_size, {1, tokens}, at::kLong);
    const double seconds = best_seconds(
        [&] {
          const at::Tensor hidden = model.final_hidden_states(ids);
          dcomp::model::lm_head_logits(config, model.embedding_and_head(), hidden);
        },
        3);
    const double flops = gemm_flops + attention_flops(config, tokens);
    std::cout << std::left << std::setw(34) << dir.substr(dir.find_last_of('/') + 1) << std::right << std::fixed
              << std::setprecision(3) << std::setw(10) << seconds << std::setprecision(0) << std::setw(12)
              << static_cast<double>(tokens) / seconds << std::setprecision(1) << std::setw(13) << flops / seconds / 1e9
              << std::setw(15) << gemm_flops / gemm_seconds / 1e9 << std::setprecision(2) << std::setw(10)
              << (flops / seconds) / (gemm_flops / gemm_seconds) << "\n";
  }
  return 0;
}
