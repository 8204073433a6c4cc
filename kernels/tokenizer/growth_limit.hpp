// A bound on how much the normalizer, pre-tokenizer and decoder may grow a text.
// Real components at most triple it (" " -> "▁") or double it (byte-level
// characters), but tokenizer.json can chain such steps and every step multiplies:
// 32 ByteLevel steps in a 1.4 KB file would grow "café" past any memory.
#pragma once

#include <cstddef>

#include "kernels/tokenizer/json_fields.hpp"

namespace dcomp::tok {

/// A component may grow a text to this many times its size, plus kGrowthSlackBytes.
constexpr size_t kMaxGrowthFactor = 16;
constexpr size_t kGrowthSlackBytes = 4096;

/// The size limit for one text passing through one component.
class GrowthLimit {
 public:
  /// `context` names the component ("tokenizer.json: normalizer") in the error.
  GrowthLimit(const JsonContext& context, size_t input_size);

  size_t max_size() const { return max_size_; }
  /// Throws TokenizerError when `size` exceeds max_size().
  void check(size_t size) const {
    if (size > max_size_) fail();
  }
  /// Throws TokenizerError: the component grows the text past the limit.
  [[noreturn]] void fail() const;

 private:
  const JsonContext& context_;
  size_t input_size_;
  size_t max_size_;
};

}  // namespace dcomp::tok
