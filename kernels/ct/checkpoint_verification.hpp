// `dcomp inspect --verify`: reads every tensor of a checkpoint (dense or compressed) and
// checks it the way a loader would use it, one decoder layer at a time (memory stays at
// about one layer): each Linear decodes under its scheme to the shape config.json
// implies, norms and embeddings have their shapes, scales and other floating tensors hold
// only finite values, each scale has its format's dtype (F8_E4M3 for NVFP4 weight scales,
// U8 E8M0 for MXFP4, F32 global scales, floating point otherwise), and no tensor is left over.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace dcomp::ct {

struct VerificationReport {
  int64_t tensors_read = 0;
  int64_t linears_decoded = 0;
  std::vector<std::string> problems;  // each names the file or tensor; empty: the checkpoint is sound
};

/// Verifies the checkpoint in `dir`; problems are collected, not thrown (an unreadable
/// config.json or index is one problem).
VerificationReport verify_checkpoint(const std::filesystem::path& dir);

}  // namespace dcomp::ct
