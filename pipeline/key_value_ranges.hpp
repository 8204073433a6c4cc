// Per-sample ranges of one decoder layer's attention keys and values during its
// calibration pass, gathered over ranks in global sample order, for KV-cache scales.
// Every rank ends with the same list, so the scales do not depend on the rank count.
// reference: llm-compressor modifiers/quantization/calibration.py (calibrate_key_hook,
// calibrate_value_hook: one observation per forward call, i.e. per calibration batch of one sample)
#pragma once

#include "kernels/comm/communicator.hpp"
#include "kernels/model/attention.hpp"
#include "lifecycle/layer_work.hpp"

namespace dcomp::pipeline {

class KeyValueRangeCollector {
 public:
  KeyValueRangeCollector();
  /// The hook to pass to decoder_layer_observe_inputs: appends, for each sample of the batch in
  /// order, the min and max of its keys and of its values.
  const model::KeyValueHook& hook() const { return hook_; }
  /// Replaces the local lists with every rank's, in rank order (= global sample order, as
  /// ranks hold contiguous runs of chunks). Returns the bytes this rank sent.
  int64_t all_gather(comm::Communicator& comm);
  /// Moves the ranges into layer.key_value_ranges.
  void fill(lifecycle::LayerWork& layer);

 private:
  lifecycle::KeyValueRanges ranges_;
  model::KeyValueHook hook_;
};

}  // namespace dcomp::pipeline
