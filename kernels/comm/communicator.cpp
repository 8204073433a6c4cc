// Shape-agnostic tensor broadcast built on the byte and tensor primitives, and the
// job's position handed to the collective watchdog.
#include "kernels/comm/communicator.hpp"

#include <ATen/ATen.h>

#include <sstream>

namespace dcomp::comm {

void Communicator::set_position(const std::string& layer, const std::string& phase) {
  position_layer_ = layer;
  position_phase_ = phase;
  if (CollectiveWatchdog* dog = watchdog()) dog->set_position(layer, phase);
}

std::string Communicator::position() const {
  if (position_layer_.empty()) return position_phase_.empty() ? "" : "phase " + position_phase_;
  return position_layer_ + (position_phase_.empty() ? "" : ", phase " + position_phase_);
}

at::Tensor Communicator::broadcast_tensor(const at::Tensor& tensor_on_root, int root) {
  // Header: "<dtype> <ndim> <d0> <d1> ..." sent as bytes, then the payload.
  std::string header;
  if (rank() == root) {
    std::ostringstream out;
    out << static_cast<int>(tensor_on_root.scalar_type()) << ' ' << tensor_on_root.dim();
    for (auto d : tensor_on_root.sizes()) out << ' ' << d;
    header = out.str();
  }
  broadcast_bytes(header, root);
  std::istringstream in(header);
  int dtype = 0;
  int64_t ndim = 0;
  in >> dtype >> ndim;
  std::vector<int64_t> sizes(static_cast<size_t>(ndim));
  for (auto& d : sizes) in >> d;
  at::Tensor buffer = rank() == root
                          ? tensor_on_root.contiguous().clone()
                          : at::empty(sizes, at::TensorOptions().dtype(static_cast<at::ScalarType>(dtype)));
  broadcast(buffer, root);
  return buffer;
}

}  // namespace dcomp::comm
