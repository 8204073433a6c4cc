// MPI communicator over MPI_COMM_WORLD. Tensors on a GPU are staged through host
// memory (no CUDA-aware MPI is assumed); the NCCL backend moves them directly.
// All calls must come from one thread at a time (MPI_THREAD_SERIALIZED).
#include <mpi.h>

#include <cstdlib>
#include <string>

#include <ATen/ATen.h>

#include "kernels/comm/communicator.hpp"

namespace dcomp::comm {
namespace {

void check_mpi(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw CommError(std::string(what) + " failed: " + std::string(text, static_cast<size_t>(length)));
}

MPI_Datatype mpi_type_of(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kInt: return MPI_INT32_T;
    case at::kLong: return MPI_INT64_T;
    case at::kShort: return MPI_INT16_T;
    case at::kChar: return MPI_INT8_T;
    case at::kByte: return MPI_UINT8_T;
    case at::kBool: return MPI_C_BOOL;
    default: break;
  }
  // Half, BFloat16 and float8 are moved as raw 16/8-bit words; reductions on them are refused.
  if (at::elementSize(type) == 2) return MPI_UINT16_T;
  if (at::elementSize(type) == 1) return MPI_UINT8_T;
  throw BackendUnsupported("mpi", std::string("dtype ") + at::toString(type));
}

MPI_Op mpi_op_of(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return MPI_SUM;
    case ReduceOp::Max: return MPI_MAX;
    case ReduceOp::Min: return MPI_MIN;
  }
  return MPI_SUM;
}

void require_reducible(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: case at::kDouble: case at::kInt: case at::kLong:
    case at::kShort: case at::kChar: case at::kByte: case at::kBool:
      return;
    default:
      throw BackendUnsupported("mpi", std::string("reductions on ") + at::toString(t.scalar_type()));
  }
}

void require_contiguous(const at::Tensor& t, const char* op) {
  if (!t.is_contiguous()) throw CommError(std::string("mpi ") + op + ": tensor must be contiguous");
}

/// Runs `collective` on the tensor's bytes in host memory: a tensor on another
/// device (a GPU) is staged through a host copy, and the result copied back.
template <class Fn>
void on_host(at::Tensor& tensor, Fn&& collective) {
  if (tensor.device().is_cpu()) {
    collective(tensor);
    return;
  }
  at::Tensor host = tensor.to(at::kCPU).contiguous();
  collective(host);
  tensor.copy_(host);
}

// MPI counts are int: large tensors are sent in chunks of at most 1 GiB.
constexpr int64_t kMaxChunkElementsBytes = int64_t{1} << 30;

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
      if (provided < MPI_THREAD_SERIALIZED) {
        throw CommError("MPI library provides thread level " + std::to_string(provided) +
                        ", dcomp needs MPI_THREAD_SERIALIZED");
      }
      std::atexit([] {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (!finalized) MPI_Finalize();
      });
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  std::string backend_name() const override { return "mpi"; }

  void all_reduce(at::Tensor& tensor, ReduceOp op) override {
    require_contiguous(tensor, "all_reduce");
    require_reducible(tensor);
    on_host(tensor, [&](at::Tensor& host) {
      for_each_chunk(host, [&](void* data, int count, MPI_Datatype type) {
        check_mpi(MPI_Allreduce(MPI_IN_PLACE, data, count, type, mpi_op_of(op), MPI_COMM_WORLD), "MPI_Allreduce");
      });
    });
  }

  void reduce(at::Tensor& tensor, ReduceOp op, int root) override {
    require_contiguous(tensor, "reduce");
    require_reducible(tensor);
    on_host(tensor, [&](at::Tensor& host) {
      for_each_chunk(host, [&](void* data, int count, MPI_Datatype type) {
        void* send = rank_ == root ? MPI_IN_PLACE : data;
        check_mpi(MPI_Reduce(send, data, count, type, mpi_op_of(op), root, MPI_COMM_WORLD), "MPI_Reduce");
      });
    });
  }

  void broadcast(at::Tensor& tensor, int root) override {
    require_contiguous(tensor, "broadcast");
    on_host(tensor, [&](at::Tensor& host) {
      for_each_chunk(host, [&](void* data, int count, MPI_Datatype type) {
        check_mpi(MPI_Bcast(data, count, type, root, MPI_COMM_WORLD), "MPI_Bcast");
      });
    });
  }

  void broadcast_bytes(std::string& bytes, int root) override {
    int64_t length = static_cast<int64_t>(bytes.size());
    check_mpi(MPI_Bcast(&length, 1, MPI_INT64_T, root, MPI_COMM_WORLD), "MPI_Bcast");
    bytes.resize(static_cast<size_t>(length));
    for (int64_t offset = 0; offset < length; offset += kMaxChunkElementsBytes) {
      int count = static_cast<int>(std::min(kMaxChunkElementsBytes, length - offset));
      check_mpi(MPI_Bcast(bytes.data() + offset, count, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
    }
  }

  std::vector<std::string> all_gather_bytes(const std::string& bytes) override {
    int length = static_cast<int>(bytes.size());
    std::vector<int> lengths(static_cast<size_t>(size_));
    check_mpi(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
    std::vector<int> offsets(static_cast<size_t>(size_), 0);
    int total = 0;
    for (int r = 0; r < size_; ++r) {
      offsets[static_cast<size_t>(r)] = total;
      total += lengths[static_cast<size_t>(r)];
    }
    std::string gathered(static_cast<size_t>(total), '\0');
    check_mpi(MPI_Allgatherv(bytes.data(), length, MPI_BYTE, gathered.data(), lengths.data(), offsets.data(),
                             MPI_BYTE, MPI_COMM_WORLD),
              "MPI_Allgatherv");
    std::vector<std::string> parts;
    for (int r = 0; r < size_; ++r) {
      parts.push_back(gathered.substr(static_cast<size_t>(offsets[static_cast<size_t>(r)]),
                                      static_cast<size_t>(lengths[static_cast<size_t>(r)])));
    }
    return parts;
  }

  void barrier() override { check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

  [[noreturn]] void abort_job(int exit_code) override {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);
  }

 private:
  template <class Fn>
  void for_each_chunk(at::Tensor& tensor, Fn&& fn) {
    MPI_Datatype type = mpi_type_of(tensor.scalar_type());
    const int64_t element_size = static_cast<int64_t>(tensor.element_size());
    const int64_t chunk = kMaxChunkElementsBytes / element_size;
    auto* base = static_cast<char*>(tensor.data_ptr());
    const int64_t total = tensor.numel();
    for (int64_t start = 0; start < total; start += chunk) {
      int count = static_cast<int>(std::min(chunk, total - start));
      fn(base + start * element_size, count, type);
    }
  }

  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<MpiCommunicator>(); }

}  // namespace dcomp::comm
