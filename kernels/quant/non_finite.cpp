// reference: IEEE 754-2008 §3.4 (NaN and the infinities: every exponent bit set); OCP 8-bit
// floating point specification (OFP8) 1.0, E4M3: no infinities, S.1111.111 is the only NaN.
#include "kernels/quant/non_finite.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "kernels/quant/matrix_copies.hpp"

namespace dcomp::quant {
namespace {

// isfinite() is taken over at most this many values at a time, so that the scan of a large
// bf16 embedding needs a temporary of 4 MiB rather than one as large as the tensor.
constexpr int64_t kChunkValues = int64_t{1} << 22;
constexpr int64_t kCodesPerTask = int64_t{1} << 16;

bool all_finite_in_chunks(const at::Tensor& flat) {
  for (int64_t begin = 0; begin < flat.numel(); begin += kChunkValues) {
    const int64_t length = std::min(kChunkValues, flat.numel() - begin);
    if (!at::isfinite(flat.narrow(0, begin, length)).all().item<bool>()) return false;
  }
  return true;
}

std::string value_text(double value) {
  if (std::isnan(value)) return "nan";
  return value > 0 ? "inf" : "-inf";
}

}  // namespace

std::optional<NonFiniteValues> find_non_finite(const at::Tensor& tensor) {
  if (!tensor.defined() || tensor.numel() == 0 || !at::isFloatingType(tensor.scalar_type())) return std::nullopt;
  const at::Tensor flat = tensor.reshape({-1});  // [numel], a view when contiguous
  const bool fast = flat.device().is_cpu() && flat.scalar_type() == at::kFloat && flat.is_contiguous();
  if (fast ? all_finite(flat.data_ptr<float>(), flat.numel()) : all_finite_in_chunks(flat)) return std::nullopt;

  // Only now, on the way to an error: a mask as large as the tensor.
  const at::Tensor bad = at::isfinite(flat).logical_not();  // [numel] bool
  NonFiniteValues out;
  out.count = bad.sum().item<int64_t>();
  const int64_t first = bad.to(at::kByte).argmax().item<int64_t>();  // the first maximum: the first bad value
  out.first_value = flat[first].item<double>();
  out.first_index.assign(static_cast<size_t>(tensor.dim()), 0);
  int64_t rest = first;
  for (int64_t d = tensor.dim() - 1; d >= 0; --d) {
    out.first_index[static_cast<size_t>(d)] = rest % tensor.size(d);
    rest /= tensor.size(d);
  }
  return out;
}

std::string describe(const NonFiniteValues& values) {
  std::ostringstream text;
  text << values.count << (values.count == 1 ? " non-finite value (" : " non-finite values (first ");
  if (!values.first_index.empty()) {
    text << "at [";
    for (size_t d = 0; d < values.first_index.size(); ++d) text << (d ? ", " : "") << values.first_index[d];
    text << "]: ";
  }
  text << value_text(values.first_value) << ")";
  return text.str();
}

void require_finite(const at::Tensor& tensor, const std::string& what, const std::string& consequence) {
  if (const auto bad = find_non_finite(tensor)) {
    throw NonFiniteError(what + " holds " + describe(*bad) + "; " + consequence);
  }
}

bool holds_fp8_nan(const at::Tensor& codes) {
  if (!codes.defined() || codes.numel() == 0) return false;
  if (codes.scalar_type() != at::kByte) {
    throw std::invalid_argument("holds_fp8_nan: expected uint8 E4M3 bit patterns");
  }
  const at::Tensor flat = codes.reshape({-1}).cpu().contiguous();  // [numel] uint8
  const uint8_t* bits = flat.data_ptr<uint8_t>();
  return at::parallel_reduce(
      int64_t{0}, flat.numel(), kCodesPerTask, false,
      [&](int64_t begin, int64_t end, bool found) {
        uint8_t nan = 0;
        for (int64_t i = begin; i < end; ++i) nan |= static_cast<uint8_t>((bits[i] & 0x7Fu) == 0x7Fu);
        return found || nan != 0;
      },
      [](bool a, bool b) { return a || b; });
}

}  // namespace dcomp::quant
