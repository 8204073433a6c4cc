// reference: CUDA Runtime API (error handling); cuBLAS library documentation (cublasGetStatusString).
#include "kernels/cuda/cuda_check.hpp"

#include <stdexcept>

namespace dcomp::gpu {

namespace {

[[noreturn]] void throw_failed(const char* library, const char* what, const std::string& name, const char* text,
                               const char* file, int line) {
  throw std::runtime_error(std::string(library) + ": " + what + " failed: " + name + " (" + text + ") at " + file +
                           ":" + std::to_string(line));
}

}  // namespace

void throw_cuda_error(cudaError_t status, const char* what, const char* file, int line) {
  throw_failed("CUDA", what, cudaGetErrorName(status), cudaGetErrorString(status), file, line);
}

void throw_cublas_error(cublasStatus_t status, const char* what, const char* file, int line) {
  throw_failed("cuBLAS", what, cublasGetStatusName(status), cublasGetStatusString(status), file, line);
}

int visible_device_count(std::string* why) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    if (why) *why = cudaGetErrorString(status);
    cudaGetLastError();  // clear the error the failed query left behind
    return 0;
  }
  if (count == 0 && why) *why = "no CUDA device is visible";
  return count;
}

}  // namespace dcomp::gpu
