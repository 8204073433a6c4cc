// reference: torch.nn.functional.linear.
#include "kernels/model/linear.hpp"

#include <ATen/ATen.h>

namespace dcomp::model {

at::Tensor linear_forward(const LinearWeights& linear, const at::Tensor& x) {
  // [..., in] @ [in, out] → [..., out]; at::linear picks addmm when a bias is present.
  const at::Tensor input = linear.input_quantizer ? linear.input_quantizer(x) : x;
  return at::linear(input, linear.weight,
                    linear.bias.defined() ? c10::optional<at::Tensor>(linear.bias) : c10::nullopt);
}

void notify_linear_input(const LinearInputHook* hook, const std::vector<std::string>& linear_names, const at::Tensor& x) {
  if (hook == nullptr || !*hook) return;
  const at::Tensor flat = x.reshape({-1, x.size(-1)}).contiguous();  // [tokens, in_features]
  (*hook)(linear_names, flat);
}

}  // namespace dcomp::model
