// The legacy "sparse-24-bitmask" storage of a 2:4-sparse weight [rows, cols]:
//   <m>.compressed  [rows, cols/2]      the kept values in row order (original dtype)
//   <m>.bitmask     uint8 [rows, ceil(cols/8)]  bit k of byte b is column 8b+k (1 = kept)
//   <m>.shape       int64 [2, 1]        [[rows], [cols]]
// Every group of 4 consecutive columns keeps exactly 2 values (zeros included when a
// group holds fewer than 2 non-zeros), so the compressed width is always cols/2.
// compressed-tensors removed this format in 0.15; it is read here for old checkpoints
// and written only on request.
//
// reference: neuralmagic/compressed-tensors src/compressed_tensors/compressors/
// sparse_compressors/sparse_24_bitmask.py and utils/helpers.py (pack_bitmasks:
// numpy.packbits(axis=-1, bitorder="little")).
#pragma once

#include <ATen/core/Tensor.h>

namespace dcomp::ct {

struct Sparse24Bitmask {
  at::Tensor compressed;  // [rows, cols/2], the weight's dtype
  at::Tensor bitmask;     // uint8 [rows, ceil(cols/8)]
  at::Tensor shape;       // int64 [2, 1]
};

/// Compresses a 2:4-sparse weight [rows, cols] (cols % 4 == 0), keeping the 2 largest
/// |w| of every group of 4. Throws std::invalid_argument when a group holds more than
/// 2 non-zeros (the weight is not 2:4 sparse).
Sparse24Bitmask compress_sparse_24(const at::Tensor& weight);

/// The dense weight [rows, cols] (zeros where the bitmask is 0), dtype of `compressed`.
/// Throws std::invalid_argument when the three tensors are inconsistent.
at::Tensor decompress_sparse_24(const at::Tensor& compressed, const at::Tensor& bitmask, const at::Tensor& shape);

}  // namespace dcomp::ct
