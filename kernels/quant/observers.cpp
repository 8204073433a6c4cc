// reference: llm-compressor src/llmcompressor/observers/grid_search.py
// (_grid_search_observer, _calculate_mse_error), observers/min_max.py, observers/mse.py.
#include "kernels/quant/observers.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "kernels/quant/qparam_layout.hpp"
#include "kernels/quant/quant_grid.hpp"

namespace dcomp::quant {

namespace {

constexpr int64_t kObserverRowsPerTask = 4;

void check_weight(const at::Tensor& w, const char* what) {
  if (!w.defined() || w.dim() != 2 || w.scalar_type() != at::kFloat) {
    throw std::invalid_argument(std::string(what) + ": expected a 2-D fp32 weight [out, in]");
  }
}

double number_kwarg(const nlohmann::json& kwargs, const char* key, double fallback, double lowest, double highest) {
  const auto it = kwargs.find(key);
  if (it == kwargs.end() || it->is_null()) return fallback;
  if (!it->is_number()) {
    throw QuantConfigError(std::string("observer_kwargs.") + key + " must be a number, got " + it->dump());
  }
  const double value = it->get<double>();
  if (!(value >= lowest && value <= highest)) {
    throw QuantConfigError(std::string("observer_kwargs.") + key + " = " + it->dump() + " is outside [" +
                           std::to_string(lowest) + ", " + std::to_string(highest) + "]");
  }
  return value;
}

at::Tensor to_qparam_tensor(const std::vector<float>& values, const QParamLayout& layout) {
  at::Tensor t = at::empty({static_cast<int64_t>(values.size())}, at::kFloat);
  std::copy(values.begin(), values.end(), t.data_ptr<float>());
  return t.reshape(layout.scale_shape);
}

// Min and max per qparam entry as flat vectors [num_qparams].
void flat_min_max(const at::Tensor& w, const QParamLayout& layout, std::vector<float>& mins, std::vector<float>& maxs) {
  const int64_t rows = layout.rows;
  const int64_t columns = layout.columns;
  const int64_t scale_columns = layout.scale_columns;
  const at::Tensor input = w.contiguous();
  const float* x = input.data_ptr<float>();
  // Per weight row first (rows are independent), then fold rows into their scale row.
  std::vector<float> row_min(static_cast<size_t>(rows * scale_columns), std::numeric_limits<float>::infinity());
  std::vector<float> row_max(static_cast<size_t>(rows * scale_columns), -std::numeric_limits<float>::infinity());
  at::parallel_for(0, rows, kObserverRowsPerTask, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* lo = row_min.data() + r * scale_columns;
      float* hi = row_max.data() + r * scale_columns;
      const float* xr = x + r * columns;
      for (int64_t c = 0; c < columns; ++c) {
        const int64_t sc = layout.column_to_scale_column[static_cast<size_t>(c)];
        lo[sc] = std::min(lo[sc], xr[c]);
        hi[sc] = std::max(hi[sc], xr[c]);
      }
    }
  });
  mins.assign(static_cast<size_t>(layout.num_qparams()), std::numeric_limits<float>::infinity());
  maxs.assign(static_cast<size_t>(layout.num_qparams()), -std::numeric_limits<float>::infinity());
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = layout.row_to_scale_row[static_cast<size_t>(r)] * scale_columns;
    for (int64_t sc = 0; sc < scale_columns; ++sc) {
      mins[base + sc] = std::min(mins[base + sc], row_min[r * scale_columns + sc]);
      maxs[base + sc] = std::max(maxs[base + sc], row_max[r * scale_columns + sc]);
    }
  }
  // A group no column maps to (possible only through g_idx) observes nothing: range 0.
  for (size_t q = 0; q < mins.size(); ++q) {
    if (mins[q] > maxs[q]) mins[q] = maxs[q] = 0.0f;
  }
}

// The grid mse_weight_range searches on: args' own, except that NVFP4's search ignores the
// FP8 rounding and the global scale (llm-compressor drops scale_dtype for tensor_group
// before searching).
QuantGrid mse_search_grid(const QuantizationArgs& args) {
  QuantGrid grid = QuantGrid::from_args(args);
  if (args.resolved_strategy() == Strategy::TensorGroup) grid.scale_dtype = ScaleDType::Native;
  return grid;
}

// Min and max per qparam entry as flat vectors [num_qparams], each multiplied by `expand`.
void expanded_min_max(const at::Tensor& w, const QParamLayout& layout, float expand, std::vector<float>& mins,
                      std::vector<float>& maxs) {
  flat_min_max(w, layout, mins, maxs);
  for (int64_t q = 0; q < layout.num_qparams(); ++q) {
    mins[q] *= expand;
    maxs[q] *= expand;
  }
}

// The grid search of mse_weight_range. Candidate step s shrinks the observed range to
// (1 - s / grid) of itself; each qparam entry keeps the candidate whose quantization error
// sum(|dequantize(quantize(x)) - x|^norm) over its values is smallest, and the search stops
// once `patience` steps in a row improve no entry (or after maxshrink * grid steps).
struct MseShrinkSearch {
  MseShrinkSearch(const at::Tensor& w, const QuantGrid& grid, const QParamLayout& layout,
                  const MseSearchOptions& options, const std::vector<float>& observed_min,
                  const std::vector<float>& observed_max);

  // Runs the search; best_min and best_max then hold the chosen range of each entry.
  void run();
  // The ranges and qparams of steps start .. start + count - 1.
  void make_candidates(int64_t start, int64_t count);
  // Each weight row's error for each of its scale columns and candidates.
  void accumulate_row_errors(int64_t count);
  // The row errors folded into their qparam entries.
  void sum_errors_per_qparam(int64_t count);
  // Takes each candidate that lowers an entry's error, in step order; true when the
  // patience ran out.
  bool keep_better_candidates(int64_t count);

  const QuantGrid& grid;
  const QParamLayout& layout;
  const MseSearchOptions& options;
  const int64_t num_qparams;
  const int64_t rows;
  const int64_t columns;
  const int64_t scale_columns;
  // Candidates are evaluated `chunk` at a time in one pass over the weight; the
  // sequential patience rule is then applied to them in order, so the result is the
  // same as evaluating one candidate per pass.
  const int64_t chunk;
  const float norm;
  const bool squared;
  const at::Tensor input;  // the weight, contiguous fp32 [rows, columns]
  const float* x;          // input's values

  const std::vector<float>& observed_min;  // [num_qparams]
  const std::vector<float>& observed_max;  // [num_qparams]
  std::vector<float> best_min;             // [num_qparams]
  std::vector<float> best_max;             // [num_qparams]
  std::vector<double> best_error;          // [num_qparams]
  std::vector<float> candidate_min;        // [chunk, num_qparams]
  std::vector<float> candidate_max;        // [chunk, num_qparams]
  std::vector<ScalarQParams> candidate;    // [chunk, num_qparams]
  std::vector<double> row_error;           // per weight row: [rows, scale_columns, count]
  std::vector<double> error;               // [chunk, num_qparams]
  int64_t no_improve = 0;                  // steps in a row that improved no entry
};

MseShrinkSearch::MseShrinkSearch(const at::Tensor& w, const QuantGrid& grid, const QParamLayout& layout,
                                 const MseSearchOptions& options, const std::vector<float>& observed_min,
                                 const std::vector<float>& observed_max)
    : grid(grid),
      layout(layout),
      options(options),
      num_qparams(layout.num_qparams()),
      rows(layout.rows),
      columns(layout.columns),
      scale_columns(layout.scale_columns),
      chunk(std::max<int64_t>(1, std::min<int64_t>(std::max<int64_t>(options.patience, 1), 8))),
      norm(static_cast<float>(options.norm)),
      squared(options.norm == 2.0),
      input(w.contiguous()),
      x(input.data_ptr<float>()),
      observed_min(observed_min),
      observed_max(observed_max),
      best_min(observed_min),
      best_max(observed_max),
      best_error(static_cast<size_t>(num_qparams), static_cast<double>(FLT_MAX)),
      candidate_min(static_cast<size_t>(chunk * num_qparams)),
      candidate_max(static_cast<size_t>(chunk * num_qparams)),
      candidate(static_cast<size_t>(chunk * num_qparams)),
      row_error(static_cast<size_t>(rows * scale_columns * chunk)),
      error(static_cast<size_t>(chunk * num_qparams)) {}

void MseShrinkSearch::run() {
  const auto total_steps = static_cast<int64_t>(options.maxshrink * options.grid);
  bool stopped = false;
  for (int64_t start = 0; start < total_steps && !stopped; start += chunk) {
    const int64_t count = std::min(chunk, total_steps - start);
    make_candidates(start, count);
    accumulate_row_errors(count);
    sum_errors_per_qparam(count);
    stopped = keep_better_candidates(count);
  }
}

void MseShrinkSearch::make_candidates(int64_t start, int64_t count) {
  for (int64_t s = 0; s < count; ++s) {
    const auto shrink = static_cast<float>(1.0 - static_cast<double>(start + s) / options.grid);
    for (int64_t q = 0; q < num_qparams; ++q) {
      const int64_t i = s * num_qparams + q;
      candidate_min[i] = observed_min[q] * shrink;
      candidate_max[i] = observed_max[q] * shrink;
      candidate[i] = grid.qparams(candidate_min[i], candidate_max[i]);
    }
  }
}

void MseShrinkSearch::accumulate_row_errors(int64_t count) {
  std::fill(row_error.begin(), row_error.end(), 0.0);
  at::parallel_for(0, rows, kObserverRowsPerTask, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t scale_base = layout.row_to_scale_row[static_cast<size_t>(r)] * scale_columns;
      double* acc = row_error.data() + r * scale_columns * count;
      const float* xr = x + r * columns;
      for (int64_t c = 0; c < columns; ++c) {
        const int64_t sc = layout.column_to_scale_column[static_cast<size_t>(c)];
        for (int64_t s = 0; s < count; ++s) {
          const ScalarQParams& qp = candidate[static_cast<size_t>(s * num_qparams + scale_base + sc)];
          const float diff = std::fabs(grid.value(grid.code(xr[c], qp.scale, qp.zero_point), qp.scale, qp.zero_point) - xr[c]);
          acc[sc * count + s] += squared ? diff * diff : std::pow(diff, norm);
        }
      }
    }
  });
}

void MseShrinkSearch::sum_errors_per_qparam(int64_t count) {
  std::fill(error.begin(), error.end(), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t scale_base = layout.row_to_scale_row[static_cast<size_t>(r)] * scale_columns;
    const double* acc = row_error.data() + r * scale_columns * count;
    for (int64_t sc = 0; sc < scale_columns; ++sc) {
      for (int64_t s = 0; s < count; ++s) error[s * num_qparams + scale_base + sc] += acc[sc * count + s];
    }
  }
}

bool MseShrinkSearch::keep_better_candidates(int64_t count) {
  for (int64_t s = 0; s < count; ++s) {
    bool improved = false;
    for (int64_t q = 0; q < num_qparams; ++q) {
      const int64_t i = s * num_qparams + q;
      if (error[i] < best_error[q]) {
        best_error[q] = error[i];
        best_min[q] = candidate_min[i];
        best_max[q] = candidate_max[i];
        improved = true;
      }
    }
    if (improved) {
      no_improve = 0;
    } else if (++no_improve >= options.patience) {
      return true;
    }
  }
  return false;
}

}  // namespace

WeightObserverKind weight_observer_kind(const QuantizationArgs& args) {
  if (!args.observer) return WeightObserverKind::MinMax;
  const std::string& name = *args.observer;
  if (name == "minmax" || name == "static_minmax" || name == "memoryless_minmax" || name == "memoryless") {
    return WeightObserverKind::MinMax;
  }
  if (name == "mse" || name == "memoryless_mse" || name == "static_mse") return WeightObserverKind::Mse;
  throw QuantConfigError("observer '" + name +
                         "' is not supported for weights (known: minmax, static_minmax, memoryless_minmax, mse, "
                         "memoryless_mse)");
}

MseSearchOptions MseSearchOptions::from_kwargs(const nlohmann::json& observer_kwargs) {
  MseSearchOptions options;
  if (observer_kwargs.is_null()) return options;
  if (!observer_kwargs.is_object()) {
    throw QuantConfigError("observer_kwargs must be an object, got " + observer_kwargs.dump());
  }
  const double big = 1e9;
  options.maxshrink = number_kwarg(observer_kwargs, "maxshrink", options.maxshrink, 0.0, 1.0);
  options.grid = number_kwarg(observer_kwargs, "grid", options.grid, 1.0, big);
  options.norm = number_kwarg(observer_kwargs, "norm", options.norm, 1e-6, 64.0);
  const double patience =
      number_kwarg(observer_kwargs, "patience", static_cast<double>(options.patience), 0.0, big);
  if (patience != std::floor(patience)) {
    throw QuantConfigError("observer_kwargs.patience must be an integer, got " + observer_kwargs["patience"].dump());
  }
  options.patience = static_cast<int64_t>(patience);
  options.expand = number_kwarg(observer_kwargs, "expand", options.expand, 1e-6, big);
  return options;
}

WeightRange weight_min_max(const at::Tensor& w, const QuantizationArgs& args, const at::Tensor& g_idx) {
  check_weight(w, "weight_min_max");
  const QParamLayout layout = make_qparam_layout(w.size(0), w.size(1), args, g_idx);
  std::vector<float> mins;
  std::vector<float> maxs;
  flat_min_max(w, layout, mins, maxs);
  return {to_qparam_tensor(mins, layout), to_qparam_tensor(maxs, layout)};
}

WeightRange mse_weight_range(const at::Tensor& w, const QuantizationArgs& args, const MseSearchOptions& options,
                             const at::Tensor& g_idx) {
  check_weight(w, "mse_weight_range");
  const QuantGrid grid = mse_search_grid(args);
  const QParamLayout layout = make_qparam_layout(w.size(0), w.size(1), args, g_idx);
  std::vector<float> observed_min;
  std::vector<float> observed_max;
  expanded_min_max(w, layout, static_cast<float>(options.expand), observed_min, observed_max);
  MseShrinkSearch search(w, grid, layout, options, observed_min, observed_max);
  search.run();
  return {to_qparam_tensor(search.best_min, layout), to_qparam_tensor(search.best_max, layout)};
}

WeightRange observe_weight_range(const at::Tensor& w, const QuantizationArgs& args, const at::Tensor& g_idx) {
  return weight_observer_kind(args) == WeightObserverKind::Mse
             ? mse_weight_range(w, args, MseSearchOptions::from_kwargs(args.observer_kwargs), g_idx)
             : weight_min_max(w, args, g_idx);
}

float range_absmax(const WeightRange& range) {
  if (!range.min.defined() || range.min.numel() == 0) return 0.0f;
  return std::max(-range.min.min().item<float>(), range.max.max().item<float>());
}

QParams observe_weight(const at::Tensor& w, const QuantizationArgs& args, const at::Tensor& g_idx,
                       const at::Tensor& global_scale) {
  const WeightRange range = observe_weight_range(w, args, g_idx);
  return compute_qparams(range.min, range.max, args, global_scale);
}

}  // namespace dcomp::quant
