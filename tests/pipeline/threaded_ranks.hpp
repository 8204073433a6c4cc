// A job of several ranks inside one test process: one thread per rank, each with a
// Communicator whose collectives meet at a shared rendezvous. Every collective
// gathers what each rank brought (a copy of its tensor, its bytes) and each rank
// then computes the result from the full list, in rank order: sums, minima and
// maxima element by element, broadcasts from the root, byte lists in rank order.
#pragma once

#include <ATen/ATen.h>

#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kernels/comm/communicator.hpp"

namespace dcomp::pipeline::testing {

/// Where the ranks' collectives meet: each brings one tensor and one byte string and
/// leaves with every rank's, once all have arrived.
class Rendezvous {
 public:
  explicit Rendezvous(int world_size)
      : world_size_(world_size), tensors_(static_cast<size_t>(world_size)), bytes_(static_cast<size_t>(world_size)) {}

  int world_size() const { return world_size_; }

  void exchange(int rank, const at::Tensor& tensor, const std::string& bytes, std::vector<at::Tensor>& all_tensors,
                std::vector<std::string>& all_bytes) {
    std::unique_lock<std::mutex> lock(mutex_);
    tensors_[static_cast<size_t>(rank)] = tensor.defined() ? tensor.to(at::kCPU).clone() : at::Tensor();
    bytes_[static_cast<size_t>(rank)] = bytes;
    const int64_t generation = generation_;
    if (++arrived_ == world_size_) {
      // Nobody can reach the next collective's completion before every rank has read this one's.
      done_tensors_ = tensors_;
      done_bytes_ = bytes_;
      arrived_ = 0;
      ++generation_;
      changed_.notify_all();
    } else {
      changed_.wait(lock, [&] { return generation_ != generation; });
    }
    all_tensors = done_tensors_;
    all_bytes = done_bytes_;
  }

 private:
  const int world_size_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int arrived_ = 0;
  int64_t generation_ = 0;
  std::vector<at::Tensor> tensors_, done_tensors_;
  std::vector<std::string> bytes_, done_bytes_;
};

class ThreadedCommunicator final : public comm::Communicator {
 public:
  ThreadedCommunicator(Rendezvous& rendezvous, int rank) : rendezvous_(rendezvous), rank_(rank) {}

  int rank() const override { return rank_; }
  int world_size() const override { return rendezvous_.world_size(); }
  std::string backend_name() const override { return "threads"; }

  void all_reduce(at::Tensor& tensor, comm::ReduceOp op) override { tensor.copy_(reduced(tensor, op)); }
  void reduce(at::Tensor& tensor, comm::ReduceOp op, int root) override {
    const at::Tensor result = reduced(tensor, op);
    if (rank_ == root) tensor.copy_(result);
  }
  void broadcast(at::Tensor& tensor, int root) override {
    tensor.copy_(gather_tensors(tensor)[static_cast<size_t>(root)]);
  }
  void broadcast_bytes(std::string& bytes, int root) override {
    bytes = all_gather_bytes(bytes)[static_cast<size_t>(root)];
  }
  std::vector<std::string> all_gather_bytes(const std::string& bytes) override {
    std::vector<at::Tensor> tensors;
    std::vector<std::string> all;
    rendezvous_.exchange(rank_, at::Tensor(), bytes, tensors, all);
    return all;
  }
  void barrier() override { all_gather_bytes(""); }
  [[noreturn]] void abort_job(int) override { std::abort(); }

 private:
  std::vector<at::Tensor> gather_tensors(const at::Tensor& tensor) {
    std::vector<at::Tensor> all;
    std::vector<std::string> bytes;
    rendezvous_.exchange(rank_, tensor, "", all, bytes);
    return all;
  }

  // Rank 0's tensor combined with rank 1's, then rank 2's, ... in the tensor's dtype.
  at::Tensor reduced(const at::Tensor& tensor, comm::ReduceOp op) {
    const std::vector<at::Tensor> all = gather_tensors(tensor);
    at::Tensor result = all.front().clone();
    for (size_t r = 1; r < all.size(); ++r) {
      if (op == comm::ReduceOp::Sum) result.add_(all[r]);
      if (op == comm::ReduceOp::Min) result = at::minimum(result, all[r]);
      if (op == comm::ReduceOp::Max) result = at::maximum(result, all[r]);
    }
    return result;
  }

  Rendezvous& rendezvous_;
  const int rank_;
};

/// Runs body(rank's communicator) on `world_size` threads and waits for all; rethrows the
/// first exception a rank threw (a rank that throws mid-collective leaves the others waiting,
/// so bodies should not throw between collectives).
inline void run_ranks(int world_size, const std::function<void(comm::Communicator&)>& body) {
  Rendezvous rendezvous(world_size);
  std::vector<std::exception_ptr> failures(static_cast<size_t>(world_size));
  std::vector<std::thread> threads;
  for (int rank = 0; rank < world_size; ++rank) {
    threads.emplace_back([&, rank] {
      ThreadedCommunicator comm(rendezvous, rank);
      try {
        body(comm);
      } catch (...) {
        failures[static_cast<size_t>(rank)] = std::current_exception();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& failure : failures) {
    if (failure) std::rethrow_exception(failure);
  }
}

}  // namespace dcomp::pipeline::testing
