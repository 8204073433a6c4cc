// reference: NCCL user guide, "Creating a communicator with options" and
// "Using NCCL with MPI" (ncclGetUniqueId on rank 0, MPI_Bcast, ncclCommInitRank).
#include "kernels/comm/nccl_communicator.hpp"

#include <cuda_runtime.h>
#include <nccl.h>

#include <ATen/ATen.h>
#if defined(DCOMP_TORCH_HAS_CUDA)
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <cstdlib>
#include <cstring>
#include <optional>

namespace dcomp::comm {
namespace {

void check_cuda(cudaError_t code, const char* what) {
  if (code != cudaSuccess) throw CommError(std::string(what) + " failed: " + cudaGetErrorString(code));
}

/// Makes `device` the calling thread's current CUDA device for its lifetime and then
/// restores the previous one: the communicator's stream, events, staging buffer and NCCL
/// communicator belong to its device, and the calling thread (a CAF worker, the
/// pipeline thread) may have another device current.
#if defined(DCOMP_TORCH_HAS_CUDA)
/// LibTorch's guard: like ATen's own operations, it does not create a CUDA context on
/// the device it restores when that device has none (cudaSetDevice would: the default
/// device 0 of every rank's thread, some hundreds of MiB of GPU 0 per rank on a node).
class NcclDeviceScope {
 public:
  explicit NcclDeviceScope(int device) : guard_(static_cast<c10::DeviceIndex>(device)) {}

 private:
  c10::cuda::CUDAGuard guard_;
};
#else
/// Without LibTorch's CUDA part (tests staging host tensors): the runtime's calls.
class NcclDeviceScope {
 public:
  explicit NcclDeviceScope(int device) {
    check_cuda(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) {
      check_cuda(cudaSetDevice(device), "cudaSetDevice");
      switched_ = true;
    }
  }
  ~NcclDeviceScope() {
    if (switched_) cudaSetDevice(previous_);
  }
  NcclDeviceScope(const NcclDeviceScope&) = delete;
  NcclDeviceScope& operator=(const NcclDeviceScope&) = delete;

 private:
  int previous_ = 0;
  bool switched_ = false;
};
#endif

/// The stream whose queued work writes a CUDA tensor handed to a collective: ATen's
/// current stream of `device` for the calling thread (the default stream unless a stream
/// guard is active). Without LibTorch's CUDA part no CUDA tensor exists; the legacy
/// default stream stands in.
cudaStream_t producer_stream(int device) {
#if defined(DCOMP_TORCH_HAS_CUDA)
  return c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device)).stream();
#else
  (void)device;
  return cudaStreamLegacy;
#endif
}

ncclDataType_t nccl_type_of(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return ncclFloat32;
    case at::kDouble: return ncclFloat64;
    case at::kHalf: return ncclFloat16;
    case at::kBFloat16: return ncclBfloat16;
    case at::kInt: return ncclInt32;
    case at::kLong: return ncclInt64;
    case at::kChar: return ncclInt8;
    case at::kByte: return ncclUint8;
    case at::kBool: return ncclUint8;
    default: throw BackendUnsupported("nccl", std::string("dtype ") + at::toString(type));
  }
}

ncclRedOp_t nccl_op_of(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return ncclSum;
    case ReduceOp::Max: return ncclMax;
    case ReduceOp::Min: return ncclMin;
  }
  return ncclSum;
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(Communicator& bootstrap, int device) : bootstrap_(bootstrap), device_(device) {
    std::string reason;
    if (!cuda_device_available(&reason)) throw BackendUnsupported("nccl", "this machine: " + reason);
    const NcclDeviceScope on_device(device_);  // ncclCommInitRank binds the current device
    ncclUniqueId id;
    std::string id_bytes;
    if (bootstrap_.rank() == 0) {
      check(ncclGetUniqueId(&id), "ncclGetUniqueId");
      id_bytes.assign(reinterpret_cast<const char*>(&id), sizeof(id));
    }
    bootstrap_.broadcast_bytes(id_bytes, 0);
    if (id_bytes.size() != sizeof(id)) throw CommError("nccl: the unique id broadcast from rank 0 is malformed");
    std::memcpy(&id, id_bytes.data(), sizeof(id));
    check(ncclCommInitRank(&comm_, bootstrap_.world_size(), id, bootstrap_.rank()), "ncclCommInitRank");
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    check_cuda(cudaEventCreateWithFlags(&inputs_ready_, cudaEventDisableTiming), "cudaEventCreate");
    check_cuda(cudaEventCreateWithFlags(&finished_, cudaEventDisableTiming), "cudaEventCreate");
  }

  NcclCommunicator(std::unique_ptr<Communicator> owned_bootstrap, int device)
      : NcclCommunicator(*owned_bootstrap, device) {
    owned_bootstrap_ = std::move(owned_bootstrap);
  }

  ~NcclCommunicator() override {
    std::optional<NcclDeviceScope> on_device;
    try {
      on_device.emplace(device_);
    } catch (...) {  // the device cannot be made current: release what can be all the same
    }
    if (inputs_ready_) cudaEventDestroy(inputs_ready_);
    if (finished_) cudaEventDestroy(finished_);
    if (stream_) cudaStreamDestroy(stream_);
    if (staging_) cudaFree(staging_);
    if (comm_) ncclCommDestroy(comm_);
  }

  int rank() const override { return bootstrap_.rank(); }
  int world_size() const override { return bootstrap_.world_size(); }
  std::string backend_name() const override { return "nccl"; }

  void all_reduce(at::Tensor& tensor, ReduceOp op) override {
    run_on_device(tensor, "all_reduce", [&](void* data) {
      check(ncclAllReduce(data, data, tensor.numel(), nccl_type_of(tensor.scalar_type()), nccl_op_of(op), comm_,
                          stream_),
            "ncclAllReduce");
    });
  }

  void reduce(at::Tensor& tensor, ReduceOp op, int root) override {
    run_on_device(tensor, "reduce", [&](void* data) {
      check(ncclReduce(data, data, tensor.numel(), nccl_type_of(tensor.scalar_type()), nccl_op_of(op), root, comm_,
                       stream_),
            "ncclReduce");
    });
  }

  void broadcast(at::Tensor& tensor, int root) override {
    run_on_device(tensor, "broadcast", [&](void* data) {
      check(ncclBroadcast(data, data, tensor.numel(), nccl_type_of(tensor.scalar_type()), root, comm_, stream_),
            "ncclBroadcast");
    });
  }

  // Small control messages go over the bootstrap (host) communicator.
  void broadcast_bytes(std::string& bytes, int root) override { bootstrap_.broadcast_bytes(bytes, root); }
  std::vector<std::string> all_gather_bytes(const std::string& bytes) override {
    return bootstrap_.all_gather_bytes(bytes);
  }
  void barrier() override { bootstrap_.barrier(); }
  // The bootstrap's watchdog: NCCL collectives count on the same progress board.
  CollectiveWatchdog* watchdog() override { return bootstrap_.watchdog(); }
  [[noreturn]] void abort_job(int exit_code) override {
    if (comm_) ncclCommAbort(comm_);
    comm_ = nullptr;
    bootstrap_.abort_job(exit_code);
    std::_Exit(exit_code);
  }

 private:
  void check(ncclResult_t code, const char* what) {
    if (code == ncclSuccess) return;
    std::string message = std::string(what) + " failed on rank " + std::to_string(rank()) + ": " +
                          ncclGetErrorString(code);
    if (comm_) ncclCommAbort(comm_);
    comm_ = nullptr;
    throw CommError(message);
  }

  /// Waits for the communicator's stream under the watchdog: polls an event recorded
  /// after the collective and NCCL's asynchronous error; past the timeout the NCCL
  /// communicator is aborted (its kernels stop waiting for the missing ranks) before the
  /// job is ended.
  void wait_for_stream(const char* name) {
    CollectiveWatchdog* dog = watchdog();
    if (dog == nullptr) {
      check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
      return;
    }
    check_cuda(cudaEventRecord(finished_, stream_), "cudaEventRecord");
    dog->wait(
        name,
        [&] {
          const cudaError_t state = cudaEventQuery(finished_);
          if (state == cudaSuccess) return true;
          if (state != cudaErrorNotReady) check_cuda(state, "cudaEventQuery");
          ncclResult_t async = ncclSuccess;
          check(ncclCommGetAsyncError(comm_, &async), "ncclCommGetAsyncError");
          if (async != ncclSuccess && async != ncclInProgress) check(async, name);
          return false;
        },
        [&] {
          if (comm_) ncclCommAbort(comm_);
          comm_ = nullptr;
        });
  }

  /// Runs `collective` on a device pointer holding the tensor's bytes, staging
  /// CPU tensors through a reusable device buffer, and waits for the stream (under the watchdog).
  template <class Fn>
  void run_on_device(at::Tensor& tensor, const char* name, Fn&& collective) {
    if (!tensor.is_contiguous()) throw CommError("nccl: tensor must be contiguous");
    const NcclDeviceScope on_device(device_);
    if (CollectiveWatchdog* dog = watchdog()) dog->enter();
    const size_t bytes = tensor.numel() * tensor.element_size();
    if (tensor.is_cuda()) {
      if (tensor.get_device() != device_) {
        throw CommError("nccl: the tensor is on cuda:" + std::to_string(tensor.get_device()) + ", this rank's "
                        "communicator on cuda:" + std::to_string(device_));
      }
      // Wait (on the device, not the host) for the kernels that wrote the tensor: those
      // queued on the caller's current ATen stream.
      check_cuda(cudaEventRecord(inputs_ready_, producer_stream(device_)), "cudaEventRecord");
      check_cuda(cudaStreamWaitEvent(stream_, inputs_ready_, 0), "cudaStreamWaitEvent");
      collective(tensor.data_ptr());
      wait_for_stream(name);
      return;
    }
    if (bytes > staging_bytes_) {
      if (staging_) cudaFree(staging_);
      staging_ = nullptr;
      check_cuda(cudaMalloc(&staging_, bytes), "cudaMalloc");
      staging_bytes_ = bytes;
    }
    check_cuda(cudaMemcpyAsync(staging_, tensor.data_ptr(), bytes, cudaMemcpyHostToDevice, stream_), "cudaMemcpyAsync");
    collective(staging_);
    check_cuda(cudaMemcpyAsync(tensor.data_ptr(), staging_, bytes, cudaMemcpyDeviceToHost, stream_), "cudaMemcpyAsync");
    wait_for_stream(name);
  }

  Communicator& bootstrap_;
  std::unique_ptr<Communicator> owned_bootstrap_;  // set when this communicator owns its bootstrap
  int device_ = 0;
  cudaEvent_t inputs_ready_ = nullptr;
  cudaEvent_t finished_ = nullptr;  // recorded after each collective, polled by the watchdog
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  void* staging_ = nullptr;
  size_t staging_bytes_ = 0;
};

}  // namespace

bool cuda_device_available(std::string* reason) {
  int count = 0;
  cudaError_t code = cudaGetDeviceCount(&count);
  if (code != cudaSuccess) {
    if (reason) *reason = std::string("cudaGetDeviceCount failed: ") + cudaGetErrorString(code);
    cudaGetLastError();  // clear the sticky error
    return false;
  }
  if (count == 0) {
    if (reason) *reason = "no CUDA device is visible";
    return false;
  }
  return true;
}

std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int device) {
  return std::make_unique<NcclCommunicator>(bootstrap, device);
}

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> bootstrap, int device) {
  return std::make_unique<NcclCommunicator>(std::move(bootstrap), device);
}

}  // namespace dcomp::comm
