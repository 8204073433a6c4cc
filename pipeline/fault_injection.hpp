// A test hook that kills this process with SIGKILL in the middle of a decoder
// layer, exactly as `kill -9` or a node failure would, so that the resume tests
// interrupt a run at a known point: the rank named dies after compressing the
// layer named, before the layer is written. Layer num_hidden_layers is the lm_head
// subgraph after the last decoder layer. The setting travels in the run's options
// (PipelineOptions::fault_kill); `dcomp oneshot` reads it from DCOMP_FAULT_KILL=<rank>:<layer>.
#pragma once

#include <optional>
#include <string>

namespace dcomp::pipeline {

/// Which rank dies in which layer.
struct FaultKill {
  int rank = -1;
  int layer = -1;
};

/// "<rank>:<layer>" (two non-negative integers); nullopt for an empty text. Anything else
/// throws std::invalid_argument naming `what` (the variable it came from) and the text.
std::optional<FaultKill> parse_fault_kill(const std::string& text, const std::string& what);

/// Raises SIGKILL when `fault` names this rank and layer; otherwise returns.
void kill_if_requested(const std::optional<FaultKill>& fault, int rank, int layer);

}  // namespace dcomp::pipeline
