// How many CPU threads the tensor library should use when a model runs.
#pragma once

namespace dcomp::model {

/// OMP_NUM_THREADS when it is set to a positive integer, otherwise the number of
/// hardware threads (at least 1).
int default_compute_threads();

/// at::set_num_threads(default_compute_threads()); returns the count set.
int set_default_compute_threads();

}  // namespace dcomp::model
