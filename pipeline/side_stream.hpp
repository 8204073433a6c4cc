// A GPU stream of its own for work one thread hands to another (the Hessian worker's
// GEMMs beside the pipeline thread's forward passes), so that the two overlap on the
// device instead of queueing on the one default stream. The hand-off orders the two
// streams: the side stream waits (on the device) for an event recorded on the producer's
// current stream, the tensors it reads are marked as used on it so that LibTorch's caching
// allocator does not give their memory to another tensor before its work is done, and
// whoever reads its results waits for it (`run` returns once the work has finished).
// On the CPU there is no side stream and every member is a plain pass-through.
//
// The code uses LibTorch's device-generic stream API (c10::Stream, c10::Event,
// c10::StreamGuard), which for CUDA is c10::cuda::getStreamFromPool, CUDAStreamGuard and
// CUDA events: it compiles against a CPU-only LibTorch too, where no CUDA tensor exists.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/Event.h>
#include <c10/core/Stream.h>

namespace dcomp::pipeline {

/// What the worker waits for before it reads the handed-off tensors: an event recorded
/// on the producer's current stream at hand-off (null on the CPU).
struct StreamHandoff {
  std::shared_ptr<c10::Event> inputs_ready;
};

class SideStream {
 public:
  /// On a CUDA device (its index, or the current device without one): a stream from
  /// LibTorch's pool, never the device's default stream. On the CPU: none.
  explicit SideStream(c10::Device device);

  /// The side stream; nullopt on the CPU.
  const std::optional<c10::Stream>& stream() const { return stream_; }

  /// On the producing thread, once the work that writes `tensors` is queued: records the
  /// event the worker waits for on the thread's current stream, and marks each CUDA tensor
  /// of `tensors` as used on the side stream (Tensor::record_stream).
  StreamHandoff hand_off(const std::vector<at::Tensor>& tensors) const;

  /// On the worker thread: runs `work` with the side stream (and its device) current,
  /// queued after the hand-off's event, and returns once that work has finished on the
  /// device; the thread's previous device and stream are restored.
  void run(const StreamHandoff& handoff, const std::function<void()>& work) const;

  /// Blocks until everything queued on the side stream is done.
  void synchronize() const;

 private:
  std::optional<c10::Stream> stream_;
};

}  // namespace dcomp::pipeline
