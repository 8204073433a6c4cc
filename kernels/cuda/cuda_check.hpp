// Error checks for the CUDA runtime and cuBLAS: a failed call throws std::runtime_error
// naming the call, its source location and the library's error name and text.
//
// reference: CUDA Runtime API (cudaGetErrorName, cudaGetErrorString); cuBLAS library
// documentation (cublasStatus_t, cublasGetStatusName, cublasGetStatusString).
#pragma once

#include <string>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

namespace dcomp::gpu {

/// "<what> failed: <error name> (<error text>) at <file>:<line>", thrown as std::runtime_error.
[[noreturn]] void throw_cuda_error(cudaError_t status, const char* what, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* what, const char* file, int line);

inline void check_cuda(cudaError_t status, const char* what, const char* file, int line) {
  if (status != cudaSuccess) throw_cuda_error(status, what, file, line);
}

inline void check_cublas(cublasStatus_t status, const char* what, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS) throw_cublas_error(status, what, file, line);
}

/// The number of visible CUDA devices, or 0 with `why` set to the runtime's error text
/// (e.g. "CUDA driver version is insufficient for CUDA runtime version") when none is usable.
int visible_device_count(std::string* why = nullptr);

}  // namespace dcomp::gpu

#define DCOMP_CUDA_CHECK(call) ::dcomp::gpu::check_cuda((call), #call, __FILE__, __LINE__)
#define DCOMP_CUBLAS_CHECK(call) ::dcomp::gpu::check_cublas((call), #call, __FILE__, __LINE__)
/// After a kernel launch: the launch's own error (bad configuration, too much shared memory).
#define DCOMP_CUDA_CHECK_LAUNCH(kernel_name) \
  ::dcomp::gpu::check_cuda(cudaGetLastError(), "launch of " kernel_name, __FILE__, __LINE__)
