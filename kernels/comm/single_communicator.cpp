// The single-process communicator: collectives over one rank are identities.
#include <cstdlib>

#include "kernels/comm/communicator.hpp"

namespace dcomp::comm {
namespace {

class SingleCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  std::string backend_name() const override { return "single"; }
  void all_reduce(at::Tensor&, ReduceOp) override {}
  void reduce(at::Tensor&, ReduceOp, int) override {}
  void broadcast(at::Tensor&, int) override {}
  void broadcast_bytes(std::string&, int) override {}
  std::vector<std::string> all_gather_bytes(const std::string& bytes) override { return {bytes}; }
  void barrier() override {}
  [[noreturn]] void abort_job(int exit_code) override { std::_Exit(exit_code); }
};

}  // namespace

std::unique_ptr<Communicator> make_single_communicator() { return std::make_unique<SingleCommunicator>(); }

}  // namespace dcomp::comm
