// reference: CUDA semantics in the PyTorch documentation, "CUDA streams" and "Stream
// semantics of backward passes" (wait_stream before using a tensor on another stream,
// Tensor.record_stream so the caching allocator does not reuse its memory early).
#include "pipeline/side_stream.hpp"

#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

namespace dcomp::pipeline {

SideStream::SideStream(c10::Device device) {
  if (!device.is_cuda()) return;
  const c10::impl::VirtualGuardImpl guard_impl(device.type());
  const c10::Device concrete = device.has_index() ? device : guard_impl.getDevice();
  stream_ = guard_impl.getStreamFromGlobalPool(concrete, /*isHighPriority=*/false);
}

StreamHandoff SideStream::hand_off(const std::vector<at::Tensor>& tensors) const {
  StreamHandoff handoff;
  if (!stream_) return handoff;
  const c10::impl::VirtualGuardImpl guard_impl(stream_->device_type());
  const c10::Stream producer = guard_impl.getStream(stream_->device());  // the calling thread's current stream
  handoff.inputs_ready = std::make_shared<c10::Event>(stream_->device_type());
  handoff.inputs_ready->record(producer);
  for (const auto& tensor : tensors) {
    if (tensor.defined() && tensor.device() == stream_->device()) tensor.record_stream(*stream_);
  }
  return handoff;
}

void SideStream::run(const StreamHandoff& handoff, const std::function<void()>& work) const {
  if (!stream_) {
    work();
    return;
  }
  const c10::StreamGuard current(*stream_);  // also makes the stream's device current
  if (handoff.inputs_ready) handoff.inputs_ready->block(*stream_);
  work();
  // The reply to the producer then means "done on the device": its bound on jobs in
  // flight bounds the GPU memory they hold too.
  stream_->synchronize();
}

void SideStream::synchronize() const {
  if (stream_) stream_->synchronize();
}

}  // namespace dcomp::pipeline
