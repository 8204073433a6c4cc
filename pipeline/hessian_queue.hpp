// Where the pipeline sends a chunk's Hessian GEMM when it should not run on the calling
// thread (a worker actor, beside the next chunk's forward pass); the statistics need not know
// who runs it.
#pragma once

#include <ATen/core/Tensor.h>

namespace dcomp::pipeline {

class HessianQueue {
 public:
  virtual ~HessianQueue() = default;
  /// sum64 [in, in] fp64 += 2·tokensᵀ·tokens for tokens [tokens, in] fp32, at some point before
  /// drain() returns; `sum64` is shared with the caller, who must not touch it until then.
  virtual void submit(at::Tensor sum64, at::Tensor tokens) = 0;
  /// Waits until every submitted job is done.
  virtual void drain() = 0;
};

}  // namespace dcomp::pipeline
