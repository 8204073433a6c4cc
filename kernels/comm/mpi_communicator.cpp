// MPI communicator over MPI_COMM_WORLD. Tensors on a GPU are staged through host
// memory (no CUDA-aware MPI is assumed); the NCCL backend moves them directly.
// All calls must come from one thread at a time (MPI_THREAD_SERIALIZED).
// Every collective is started non-blocking (MPI_Iallreduce, MPI_Ibcast, ...: the same
// operations, roots and buffers as their blocking forms) and polled by the collective
// watchdog, which ends the job when it does not complete within the timeout.
#include <mpi.h>

#include <cstdlib>
#include <string>

#include <ATen/ATen.h>

#include "kernels/comm/communicator.hpp"
#include "kernels/comm/mpi_progress_board.hpp"
#include "kernels/platform/launcher_environment.hpp"

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
    std::string why_no_board;
    auto board = make_mpi_progress_board(MPI_COMM_WORLD, &why_no_board);
    watchdog_ = std::make_unique<CollectiveWatchdog>(
        rank_, size_, std::move(board), [this](int code, const std::string&) { abort_job(code); }, why_no_board);
  }

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  std::string backend_name() const override { return "mpi"; }

  void all_reduce(at::Tensor& tensor, ReduceOp op) override {
    require_contiguous(tensor, "all_reduce");
    require_reducible(tensor);
    on_host(tensor, [&](at::Tensor& host) {
      for_each_chunk(host, [&](void* data, int count, MPI_Datatype type) {
        run("all_reduce", "MPI_Iallreduce", [&](MPI_Request* request) {
          return MPI_Iallreduce(MPI_IN_PLACE, data, count, type, mpi_op_of(op), MPI_COMM_WORLD, request);
        });
      });
    });
  }

  void reduce(at::Tensor& tensor, ReduceOp op, int root) override {
    require_contiguous(tensor, "reduce");
    require_reducible(tensor);
    on_host(tensor, [&](at::Tensor& host) {
      for_each_chunk(host, [&](void* data, int count, MPI_Datatype type) {
        void* send = rank_ == root ? MPI_IN_PLACE : data;
        run("reduce", "MPI_Ireduce", [&](MPI_Request* request) {
          return MPI_Ireduce(send, data, count, type, mpi_op_of(op), root, MPI_COMM_WORLD, request);
        });
      });
    });
  }

  void broadcast(at::Tensor& tensor, int root) override {
    require_contiguous(tensor, "broadcast");
    on_host(tensor, [&](at::Tensor& host) {
      for_each_chunk(host, [&](void* data, int count, MPI_Datatype type) {
        run("broadcast", "MPI_Ibcast", [&](MPI_Request* request) {
          return MPI_Ibcast(data, count, type, root, MPI_COMM_WORLD, request);
        });
      });
    });
  }

  void broadcast_bytes(std::string& bytes, int root) override {
    int64_t length = static_cast<int64_t>(bytes.size());
    run("broadcast_bytes", "MPI_Ibcast", [&](MPI_Request* request) {
      return MPI_Ibcast(&length, 1, MPI_INT64_T, root, MPI_COMM_WORLD, request);
    });
    bytes.resize(static_cast<size_t>(length));
    for (int64_t offset = 0; offset < length; offset += kMaxChunkElementsBytes) {
      int count = static_cast<int>(std::min(kMaxChunkElementsBytes, length - offset));
      run("broadcast_bytes", "MPI_Ibcast", [&](MPI_Request* request) {
        return MPI_Ibcast(bytes.data() + offset, count, MPI_BYTE, root, MPI_COMM_WORLD, request);
      });
    }
  }

  std::vector<std::string> all_gather_bytes(const std::string& bytes) override {
    int length = static_cast<int>(bytes.size());
    std::vector<int> lengths(static_cast<size_t>(size_));
    run("all_gather_bytes", "MPI_Iallgather", [&](MPI_Request* request) {
      return MPI_Iallgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD, request);
    });
    std::vector<int> offsets(static_cast<size_t>(size_), 0);
    int total = 0;
    for (int r = 0; r < size_; ++r) {
      offsets[static_cast<size_t>(r)] = total;
      total += lengths[static_cast<size_t>(r)];
    }
    std::string gathered(static_cast<size_t>(total), '\0');
    run("all_gather_bytes", "MPI_Iallgatherv", [&](MPI_Request* request) {
      return MPI_Iallgatherv(bytes.data(), length, MPI_BYTE, gathered.data(), lengths.data(), offsets.data(), MPI_BYTE,
                             MPI_COMM_WORLD, request);
    });
    std::vector<std::string> parts;
    for (int r = 0; r < size_; ++r) {
      parts.push_back(gathered.substr(static_cast<size_t>(offsets[static_cast<size_t>(r)]),
                                      static_cast<size_t>(lengths[static_cast<size_t>(r)])));
    }
    return parts;
  }

  void barrier() override {
    run("barrier", "MPI_Ibarrier", [&](MPI_Request* request) { return MPI_Ibarrier(MPI_COMM_WORLD, request); });
  }

  CollectiveWatchdog* watchdog() override { return watchdog_.get(); }

  [[noreturn]] void abort_job(int exit_code) override {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);
  }

 private:
  /// Enters a collective: starts it with `start` (an MPI_I* call filling the request) and
  /// waits for it under the watchdog. `collective` names it in a timeout's message.
  template <class Start>
  void run(const char* collective, const char* mpi_function, Start&& start) {
    watchdog_->enter();
    MPI_Request request = MPI_REQUEST_NULL;
    check_mpi(start(&request), mpi_function);
    watchdog_->wait(collective, [&] {
      int done = 0;
      check_mpi(MPI_Test(&request, &done, MPI_STATUS_IGNORE), mpi_function);
      return done != 0;
    });
  }

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
  std::unique_ptr<CollectiveWatchdog> watchdog_;
};

}  // namespace

bool launched_by_mpi() { return platform::launched_by_mpi_launcher(); }

std::unique_ptr<Communicator> make_mpi_communicator() { return std::make_unique<MpiCommunicator>(); }

}  // namespace dcomp::comm
