// GPTQ: quantize an [out, in] weight column by column, pushing each column's rounding
// error onto the columns not yet quantized through the inverse Hessian of the layer's
// inputs, with activation ordering, dead-input masking, damping and lazy block updates.
//
// reference: Frantar et al., "GPTQ: Accurate Post-Training Quantization for Generative
// Pre-trained Transformers" (arXiv 2210.17323), Algorithm 1; llm-compressor
// src/llmcompressor/modifiers/gptq/gptq_quantize.py (quantize_weight), whose
// semantics (scales fixed from the original weight before the loop, actorder
// static/group, g_idx) this follows.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "kernels/quant/inverse_hessian.hpp"
#include "kernels/quant/qparams.hpp"
#include "kernels/quant/quant_args.hpp"

namespace dcomp::quant {

/// Which column loop solves: the AVX-512 loop on host buffers (the CPU default), or the same
/// arithmetic in ATen tensor operations on `GptqOptions::device` (gptq_tensor_solve.hpp: the
/// GPU path; on the CPU it gives the same bytes, more slowly).
enum class GptqSolver { ColumnLoop, TensorOps };

struct GptqOptions {
  int64_t block_size = 128;       // columns per lazy-update block
  double dampening_frac = 0.01;   // damping = frac · mean(diag H)
  int max_damping_retries = 6;    // on a failed Cholesky the damping is multiplied by 10, this many times at most
  bool vectorized = true;         // AVX-512 column loop where the CPU has it (same results as the portable loop)
  GptqSolver solver = GptqSolver::ColumnLoop;
  c10::Device device = c10::Device(c10::kCPU);  // TensorOps: where the factorization and the loop run
};

struct GptqResult {
  at::Tensor codes;        // [out, in] original column order: int8 integers (Int) or uint8 E4M3 bits (Float)
  QParams qparams;         // scale fp32 / zero_point int32 in the strategy's shape (see QParams)
  at::Tensor g_idx;        // int32 [in]: original column → group; only for actorder Group, else undefined
  at::Tensor dequantized;  // [out, in] fp32: (code − zp)·scale, the weight the model continues with
  double loss = 0;         // Σ (w − q)² / Hinv[i,i]² / 2, as upstream logs it
  double damping = 0;      // absolute damping added to diag(H)
  int retries = 0;         // damping increases after failed Cholesky factorizations
  bool fell_back_to_rtn = false;  // no factorization succeeded: Hinv = I (round to nearest)
  double factorization_seconds = 0;  // wall time of the inverse-Hessian factorization
  double column_loop_seconds = 0;    // wall time of the column loop (quantize, in-block updates, block GEMMs)
};

/// weight [out, in] fp32; hessian [in, in] fp32, symmetric, already divided by the
/// sample count (see HessianAccumulator). Supports Int (1–8 bits, symmetric or
/// asymmetric), Float (FP8 E4M3, symmetric) and FP4 (NVFP4, MXFP4) with the Tensor,
/// Channel, Group, TensorGroup and Block strategies. Scales come from the observer args.observer names (min/max or
/// MSE), computed on the original weight before the loop (on the permuted weight for
/// actorder Group, so groups are contiguous in permuted order). The args must pass
/// QuantizationArgs::validate(), which rejects actorder Group without the group strategy.
///
/// Costs about out·in² FLOPs in the block GEMMs plus out·in·block_size in the
/// in-block updates, and (4/3)·in³ for the factorization (the LAPACK chain of upstream,
/// bit for bit; see inverse_hessian.hpp). The codes are those of the upstream fp32 loop
/// with the same scales, bit for bit (see gptq_solve.hpp).
///
/// Throws std::invalid_argument for mismatched shapes, non-fp32 or non-finite input,
/// and QuantConfigError for arguments GPTQ cannot use (e.g. the Token strategy).
/// TensorGroup (NVFP4) weights need `global_scale` (fp32 [1]); their codes are quantized
/// with the effective scales scale / global_scale, as upstream's column_scale_window does.
///
/// `factorization` (optional): gptq_factorize's result for this Hessian, activation order and
/// options, shared by the Linears that read the same input (q/k/v, gate/up, and every expert's
/// gate/up when all experts are calibrated on every token): the (4/3)·in³ factorization is then
/// done once for them all, with results bit for bit those of a factorization per Linear.
struct GptqFactorization;
GptqResult gptq_quantize(const at::Tensor& weight, const at::Tensor& hessian, const QuantizationArgs& args,
                         const GptqOptions& options = {}, const at::Tensor& global_scale = {},
                         const GptqFactorization* factorization = nullptr);

/// What of a GPTQ solve depends on the Hessian alone (steps 3, 7 and 8).
struct GptqFactorization {
  ActOrder actorder = ActOrder::None;
  at::Tensor perm;               // int64 [in]: solve position → original column
  at::Tensor dead;               // bool [in], solve order: inputs that never fired
  InverseHessianFactor factor;   // of the permuted, damped Hessian
  double seconds = 0;            // wall time of the factorization
};

/// hessian [in, in] fp32 (divided by the sample count) → its factorization for `actorder`
/// (None, Static or Group: the latter two sort columns by decreasing diagonal). With the
/// TensorOps solver it is computed on options.device with ATen's linear algebra
/// (inverse_hessian_tensor.hpp) and its tensors stay there; bit for bit the LAPACK path's on
/// the CPU.
GptqFactorization gptq_factorize(const at::Tensor& hessian, ActOrder actorder, const GptqOptions& options = {});

/// Same-shape weights (every expert's gate_proj, say; each [out, in] fp32 on the host) with
/// the same quantization args, solved together by the tensor-ops loop on options.device: one
/// stacked loop of E modules instead of E loops, each module's results bit for bit those of
/// gptq_quantize alone. `factorizations`: one shared by all (the experts' gate/up reading the
/// router input when every expert is calibrated on every token) or one per weight (each
/// expert's down_proj with its own routed tokens), from gptq_factorize with the TensorOps
/// solver on the same device. `global_scales`: empty, or one fp32 [1] per weight (NVFP4).
/// Scales are observed on the host; the weights, their scale tables and the factors go to the
/// device, and only the codes and the dequantized weights come back.
std::vector<GptqResult> gptq_quantize_batch(const std::vector<at::Tensor>& weights, const QuantizationArgs& args,
                                            const GptqOptions& options,
                                            const std::vector<const GptqFactorization*>& factorizations,
                                            const std::vector<at::Tensor>& global_scales = {});

}  // namespace dcomp::quant
