// reference: PyTorch distributed conventions (LOCAL_RANK, torch.cuda.set_device(local_rank));
// Open MPI mpirun(1) (OMPI_COMM_WORLD_LOCAL_RANK); Slurm srun(1) (SLURM_LOCALID).
#include "kernels/model/compute_device.hpp"

#include <ATen/detail/CUDAHooksInterface.h>

#include <cstdlib>
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

int local_rank_from_environment(const EnvironmentLookup& lookup) {
  for (const char* name : {"LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"}) {
    const char* value = lookup(name);
    if (value == nullptr || *value == '\0') continue;
    char* end = nullptr;
    const long parsed = std::strtol(value, &end, 10);
    if (end == value || *end != '\0' || parsed < 0 || parsed > 1 << 20) {
      throw std::invalid_argument(std::string(name) + "=\"" + value +
                                  "\" is not a node-local rank (a non-negative integer)");
    }
    return static_cast<int>(parsed);
  }
  return 0;
}

int local_rank_from_environment() {
  return local_rank_from_environment([](const char* name) { return std::getenv(name); });
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
