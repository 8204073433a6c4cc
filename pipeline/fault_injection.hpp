// A test hook that kills this process with SIGKILL in the middle of a decoder
// layer, exactly as `kill -9` or a node failure would, so that the resume tests
// interrupt a run at a known point. Set DCOMP_FAULT_KILL=<rank>:<layer>: that
// rank dies after compressing that layer, before the layer is written. Layer
// num_hidden_layers is the lm_head subgraph after the last decoder layer.
#pragma once

namespace dcomp::pipeline {

/// Raises SIGKILL when DCOMP_FAULT_KILL names this rank and layer; otherwise returns.
void kill_if_requested(int rank, int layer);

}  // namespace dcomp::pipeline
