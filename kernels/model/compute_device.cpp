// reference: PyTorch distributed conventions (one GPU a rank: torch.cuda.set_device(local_rank)).
#include "kernels/model/compute_device.hpp"

#include <ATen/detail/CUDAHooksInterface.h>

#include <stdexcept>

namespace dcomp::model {

CudaAvailability probe_cuda() {
  // hasCUDART: LibTorch's CUDA part is built and loaded; hasCUDA: it also found a usable GPU.
  const auto& hooks = at::detail::getCUDAHooks();
  CudaAvailability cuda;
  cuda.libtorch_has_cuda = hooks.hasCUDART();
  if (cuda.libtorch_has_cuda && hooks.hasCUDA()) cuda.device_count = static_cast<int>(hooks.getNumGPUs());
  return cuda;
}

c10::Device choose_compute_device(const std::string& requested, const CudaAvailability& cuda, int local_rank) {
  if (requested != "cpu" && requested != "cuda" && requested != "auto") {
    throw std::invalid_argument("--device must be cpu, cuda or auto, not '" + requested + "'");
  }
  if (requested == "cpu") return c10::Device(c10::DeviceType::CPU);
  const bool usable = cuda.libtorch_has_cuda && cuda.device_count > 0;
  if (!usable) {
    if (requested == "auto") return c10::Device(c10::DeviceType::CPU);
    if (!cuda.libtorch_has_cuda) {
      throw std::runtime_error("--device cuda: this dcomp was built against a LibTorch without CUDA support; "
                               "build it against a CUDA LibTorch (launch/gpu-check.sh shows how) or use "
                               "--device cpu");
    }
    throw std::runtime_error("--device cuda: LibTorch sees no GPU (check CUDA_VISIBLE_DEVICES and the driver), "
                             "or use --device cpu");
  }
  const int index = local_rank % cuda.device_count;
  return c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace dcomp::model
