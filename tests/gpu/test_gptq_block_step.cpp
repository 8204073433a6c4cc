// The fused GPTQ block step on the GPU against gptq_block_step_reference (plain fp32
// loops on the CPU), on ragged shapes: rows and in_features 172, 384, 4096, 11008 (few
// rows for the wide ones), groups of 32 and 128 (with a partial last group), per-channel
// and per-tensor scales, INT4 / INT8 symmetric and asymmetric, blocks of 128, 100, 58, 44
// and 1 columns, blocks that start inside a group, and exact ties.
//
// Tolerance: none. Both sides perform the same correctly rounded IEEE fp32 operations in
// the same order (kernels/cuda/gptq_block_step.hpp), so codes, the updated weight and the
// block's errors must be identical, ties included (both round half to even; the tie
// count is printed and the ties case checks that every planted tie went to the even
// code). Values are compared with ==, so a zero may differ in sign only: the kernel
// writes (code − zero)·scale from the int8 code (+0), the reference from rint's result,
// which is −0 for values in (−0.5, 0). The columns outside the block must be untouched,
// and the factor's lower triangle (NaN here) must not be read.
//
// reference: arXiv 2210.17323 Algorithm 1; compressed-tensors quantization/utils/helpers.py
// (calculate_qparams, for the scales used here).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "kernels/cuda/device_buffer.hpp"
#include "kernels/cuda/gptq_block_step.hpp"
#include "tests/gpu/gpu_test_support.hpp"

namespace dcomp::gpu {
namespace {

using testing::GpuTest;

struct Grid {
  float q_min;
  float q_max;
  bool symmetric;
  const char* name;
};
constexpr Grid kInt4Sym{-8.0f, 7.0f, true, "int4sym"};
constexpr Grid kInt4Asym{-8.0f, 7.0f, false, "int4asym"};
constexpr Grid kInt8Sym{-128.0f, 127.0f, true, "int8sym"};
constexpr Grid kInt8Asym{-128.0f, 127.0f, false, "int8asym"};

constexpr int64_t kPerChannel = 0;
constexpr int64_t kPerTensor = -1;

struct BlockSpan {
  int64_t first;
  int64_t count;
};

struct BlockCase {
  std::string name;
  int64_t rows;
  int64_t columns;
  int64_t group;  // columns per scale group, or kPerChannel / kPerTensor
  Grid grid;
  std::vector<BlockSpan> blocks;
  bool ties = false;  // column `first` of each block made of exact ties (power-of-two scales)
};

std::ostream& operator<<(std::ostream& os, const BlockCase& c) { return os << c.name; }

// Host data of one case: the weight and its scales in the layout of GptqQuantTargets.
struct Problem {
  std::vector<float> weight;  // [rows, columns]
  std::vector<float> scale;
  std::vector<float> zero;
  int64_t stride = 0;
  std::vector<int32_t> scale_column;  // [columns]
};

// compressed-tensors calculate_qparams for one group's min / max.
void qparams_of(float lo, float hi, const Grid& grid, float* scale, float* zero) {
  lo = std::min(lo, 0.0f);
  hi = std::max(hi, 0.0f);
  if (grid.symmetric) {
    *scale = std::max(std::fabs(lo), std::fabs(hi)) / ((grid.q_max - grid.q_min) / 2.0f);
    *zero = 0.0f;
  } else {
    *scale = (hi - lo) / (grid.q_max - grid.q_min);
    const float z = grid.q_min - lo / *scale;
    *zero = std::isnan(z) ? 0.0f : std::nearbyint(std::clamp(z, grid.q_min, grid.q_max));
  }
  if (*scale == 0.0f) *scale = FLT_EPSILON;
}

Problem make_problem(const BlockCase& c, uint64_t seed) {
  Problem p;
  p.weight = testing::random_matrix(c.rows, c.columns, seed, testing::linear_scales(97, 0.5f, 2.0f));
  const int64_t groups = c.group > 0 ? (c.columns + c.group - 1) / c.group : 1;
  const int64_t scale_rows = c.group == kPerTensor ? 1 : c.rows;
  p.stride = c.group == kPerTensor ? 0 : groups;
  p.scale_column.resize(static_cast<size_t>(c.columns));
  for (int64_t col = 0; col < c.columns; ++col) {
    p.scale_column[static_cast<size_t>(col)] = static_cast<int32_t>(c.group > 0 ? col / c.group : 0);
  }
  p.scale.assign(static_cast<size_t>(scale_rows * groups), 0.0f);
  p.zero.assign(p.scale.size(), 0.0f);
  for (int64_t sr = 0; sr < scale_rows; ++sr) {
    for (int64_t g = 0; g < groups; ++g) {
      float lo = std::numeric_limits<float>::max();
      float hi = std::numeric_limits<float>::lowest();
      for (int64_t r = (c.group == kPerTensor ? 0 : sr); r < (c.group == kPerTensor ? c.rows : sr + 1); ++r) {
        for (int64_t col = 0; col < c.columns; ++col) {
          if (p.scale_column[static_cast<size_t>(col)] != g) continue;
          lo = std::min(lo, p.weight[static_cast<size_t>(r * c.columns + col)]);
          hi = std::max(hi, p.weight[static_cast<size_t>(r * c.columns + col)]);
        }
      }
      const size_t at = static_cast<size_t>(sr * groups + g);
      qparams_of(lo, hi, c.grid, &p.scale[at], &p.zero[at]);
      if (c.ties) p.scale[at] = 0.125f;  // w = (k + ½)·2^-3 divides exactly: x lands on a tie
    }
  }
  if (c.ties) {
    for (const BlockSpan& span : c.blocks) {
      for (int64_t r = 0; r < c.rows; ++r) {
        const float k = static_cast<float>(r % 13) - 6.0f;  // ties from −5.5 to 6.5 (before the zero point)
        p.weight[static_cast<size_t>(r * c.columns + span.first)] = (k + 0.5f) * 0.125f;
      }
    }
  }
  return p;
}

// A compact [count, count] upper factor block: positive diagonal, off-diagonal entries a
// fraction of the diagonal; NaN below the diagonal, which must never be read.
std::vector<float> random_upper(int64_t count, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> uniform(0.2f, 1.0f);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> u(static_cast<size_t>(count * count), std::numeric_limits<float>::quiet_NaN());
  for (int64_t i = 0; i < count; ++i) {
    const float d = uniform(gen);
    u[static_cast<size_t>(i * count + i)] = d;
    for (int64_t j = i + 1; j < count; ++j) u[static_cast<size_t>(i * count + j)] = 0.15f * d * normal(gen);
  }
  return u;
}

// Elements that differ (a zero's sign aside); `first` receives the index of the first one.
int64_t value_differences(const std::vector<float>& a, const std::vector<float>& b, size_t* first) {
  int64_t differ = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      if (differ == 0) *first = i;
      ++differ;
    }
  }
  return differ;
}

class GptqBlockStep : public GpuTest, public ::testing::WithParamInterface<BlockCase> {};

TEST_P(GptqBlockStep, MatchesTheCpuReferenceBitForBit) {
  const BlockCase& c = GetParam();
  const Problem p = make_problem(c, 7 + static_cast<uint64_t>(c.rows * 31 + c.columns));
  DeviceBuffer<float> scale(p.scale);
  DeviceBuffer<float> zero(p.zero);
  DeviceBuffer<int32_t> scale_column(p.scale_column);
  for (const BlockSpan& span : c.blocks) {
    SCOPED_TRACE("block [" + std::to_string(span.first) + ", " + std::to_string(span.first + span.count) + ")");
    const std::vector<float> u = random_upper(span.count, 99 + static_cast<uint64_t>(span.first));
    DeviceBuffer<float> device_u(u);
    DeviceBuffer<float> device_w(p.weight);
    DeviceBuffer<int8_t> device_codes(static_cast<size_t>(c.rows * c.columns));
    device_codes.zero();
    DeviceBuffer<float> device_err(static_cast<size_t>(c.rows * span.count));

    GptqBlock block;
    block.rows = c.rows;
    block.columns = c.columns;
    block.first = span.first;
    block.count = span.count;
    block.hinv_ld = span.count;
    block.err_ld = span.count;
    GptqQuantTargets targets;
    targets.scale_row_stride = p.stride;
    targets.q_min = c.grid.q_min;
    targets.q_max = c.grid.q_max;

    block.weight = device_w.get();
    block.hinv = device_u.get();
    block.err = device_err.get();
    targets.scale = scale.get();
    targets.zero_point = zero.get();
    targets.scale_column = scale_column.get();
    targets.codes = device_codes.get();
    gptq_block_step(block, targets, nullptr);
    DCOMP_CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<float> gpu_w = device_w.download();
    const std::vector<int8_t> gpu_codes = device_codes.download();
    const std::vector<float> gpu_err = device_err.download();

    std::vector<float> cpu_w = p.weight;
    std::vector<int8_t> cpu_codes(gpu_codes.size(), 0);
    std::vector<float> cpu_err(gpu_err.size(), 0.0f);
    block.weight = cpu_w.data();
    block.hinv = u.data();
    block.err = cpu_err.data();
    targets.scale = p.scale.data();
    targets.zero_point = p.zero.data();
    targets.scale_column = p.scale_column.data();
    targets.codes = cpu_codes.data();
    int64_t ties = 0;
    gptq_block_step_reference(block, targets, &ties);

    int64_t code_mismatches = 0;
    for (size_t i = 0; i < gpu_codes.size(); ++i) code_mismatches += gpu_codes[i] != cpu_codes[i];
    std::cout << "[   INFO   ] " << c.name << " block [" << span.first << ", " << span.first + span.count
              << "): " << c.rows * span.count << " codes, " << ties << " exact ties, " << code_mismatches
              << " code mismatches\n";
    EXPECT_EQ(code_mismatches, 0);
    size_t at = 0;
    EXPECT_EQ(value_differences(gpu_w, cpu_w, &at), 0)
        << "updated weight (whole matrix: outside the block unchanged); first at " << at << ": GPU " << gpu_w[at]
        << ", CPU " << cpu_w[at];
    EXPECT_EQ(value_differences(gpu_err, cpu_err, &at), 0)
        << "block errors; first at " << at << ": GPU " << gpu_err[at] << ", CPU " << cpu_err[at];
    if (c.ties) {
      int64_t planted = 0;  // planted ties that the clamp leaves inside (q_min, q_max)
      for (int64_t r = 0; r < c.rows; ++r) {
        const size_t q_at = static_cast<size_t>(r * p.stride + p.scale_column[static_cast<size_t>(span.first)]);
        const float x = p.weight[static_cast<size_t>(r * c.columns + span.first)] / p.scale[q_at] + p.zero[q_at];
        planted += x > c.grid.q_min && x < c.grid.q_max;
      }
      EXPECT_GT(planted, c.rows / 2);
      EXPECT_GE(ties, planted);
      for (int64_t r = 0; r < c.rows; ++r) {  // the planted ties went to the even neighbour
        const int code = gpu_codes[static_cast<size_t>(r * c.columns + span.first)];
        if (code > c.grid.q_min && code < c.grid.q_max) {
          EXPECT_EQ(code % 2, 0) << "row " << r;
        }
      }
    }
  }
}

const std::vector<BlockCase> kCases = {
    {"rows172_in172_g32_int4asym", 172, 172, 32, kInt4Asym, {{0, 128}, {128, 44}}},
    {"rows384_in384_g128_int4sym", 384, 384, 128, kInt4Sym, {{0, 128}, {128, 128}, {256, 128}}},
    {"rows4096_in384_g32_int8asym", 4096, 384, 32, kInt8Asym, {{256, 128}, {5, 1}}},
    {"rows67_in4096_g128_int8sym", 67, 4096, 128, kInt8Sym, {{0, 128}, {1000, 100}, {3968, 128}}},
    {"rows33_in11008_g128_int4sym", 33, 11008, 128, kInt4Sym, {{0, 128}, {10880, 128}, {10950, 58}}},
    {"rows172_in384_channel_int4sym", 172, 384, kPerChannel, kInt4Sym, {{0, 128}, {256, 128}}},
    {"rows100_in256_tensor_int8asym", 100, 256, kPerTensor, kInt8Asym, {{0, 128}, {200, 56}}},
    {"rows69_in256_g32_ties_int4sym", 69, 256, 32, kInt4Sym, {{0, 128}, {128, 100}}, true},
    {"rows69_in256_g128_ties_int4asym", 69, 256, 128, kInt4Asym, {{0, 128}}, true},
};

INSTANTIATE_TEST_SUITE_P(Shapes, GptqBlockStep, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<BlockCase>& info) { return info.param.name; });

class GptqBlockStepArguments : public GpuTest {};

TEST_F(GptqBlockStepArguments, BadBlocksAndGridsThrow) {
  GptqBlock block;
  block.rows = 4;
  block.columns = 256;
  block.first = 0;
  block.count = 129;  // above 128
  block.hinv_ld = 129;
  block.err_ld = 129;
  GptqQuantTargets targets;
  EXPECT_THROW(gptq_block_step(block, targets, nullptr), std::invalid_argument);
  block.count = 16;
  block.first = 250;  // past the last column
  EXPECT_THROW(gptq_block_step(block, targets, nullptr), std::invalid_argument);
  block.first = 0;
  targets.q_min = -256.0f;  // codes are int8
  EXPECT_THROW(gptq_block_step(block, targets, nullptr), std::invalid_argument);
}

}  // namespace
}  // namespace dcomp::gpu
