// Owners of GPU resources: a typed device allocation (cudaMalloc / cudaFree) with
// host copies, and a cuBLAS handle. Move-only; errors throw (see cuda_check.hpp).
//
// reference: CUDA Runtime API (memory management); cuBLAS library documentation
// (cublasCreate, cublasSetStream, cublasSetMathMode).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "kernels/cuda/cuda_check.hpp"

namespace dcomp::gpu {

/// `count` elements of T in device memory (uninitialized), freed on destruction.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t count) : count_(count) {
    if (count > 0) DCOMP_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), count * sizeof(T)));
  }
  /// A device copy of `host`.
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host.data(), host.size()); }
  ~DeviceBuffer() {
    if (data_) cudaFree(data_);  // never throws: a failure here has nothing left to release
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), count_(std::exchange(other.count_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      if (data_) cudaFree(data_);
      data_ = std::exchange(other.data_, nullptr);
      count_ = std::exchange(other.count_, 0);
    }
    return *this;
  }

  T* get() { return data_; }
  const T* get() const { return data_; }
  size_t size() const { return count_; }

  /// host[0, count) → device[0, count) (synchronous).
  void upload(const T* host, size_t count) {
    if (count > 0) DCOMP_CUDA_CHECK(cudaMemcpy(data_, host, count * sizeof(T), cudaMemcpyHostToDevice));
  }
  /// The whole buffer back to the host (synchronous).
  std::vector<T> download() const {
    std::vector<T> host(count_);
    if (count_ > 0) DCOMP_CUDA_CHECK(cudaMemcpy(host.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }
  /// All bytes zero (synchronous).
  void zero() {
    if (count_ > 0) DCOMP_CUDA_CHECK(cudaMemset(data_, 0, count_ * sizeof(T)));
  }

 private:
  T* data_ = nullptr;
  size_t count_ = 0;
};

/// A cuBLAS handle in the default math mode (FP32 GEMMs stay FP32 unless a call asks
/// for another compute type, as accumulate_hessian's TF32 mode does).
class CublasHandle {
 public:
  CublasHandle() {
    DCOMP_CUBLAS_CHECK(cublasCreate(&handle_));
    DCOMP_CUBLAS_CHECK(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH));
  }
  ~CublasHandle() {
    if (handle_) cublasDestroy(handle_);
  }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  CublasHandle(CublasHandle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  CublasHandle& operator=(CublasHandle&& other) noexcept {
    if (this != &other) {
      if (handle_) cublasDestroy(handle_);
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }

  cublasHandle_t get() const { return handle_; }
  void set_stream(cudaStream_t stream) { DCOMP_CUBLAS_CHECK(cublasSetStream(handle_, stream)); }

 private:
  cublasHandle_t handle_ = nullptr;
};

}  // namespace dcomp::gpu
