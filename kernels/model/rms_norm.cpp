// reference: transformers/models/llama/modeling_llama.py (LlamaRMSNorm.forward).
#include "kernels/model/rms_norm.hpp"

#include <ATen/ATen.h>

namespace dcomp::model {

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::Tensor mean_square = x.pow(2).mean(-1, /*keepdim=*/true);  // [..., 1]
  return weight * (x * at::rsqrt(mean_square + eps));
}

}  // namespace dcomp::model
