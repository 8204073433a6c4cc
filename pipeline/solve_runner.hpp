// What runs a layer's independent per-module solves concurrently, one compute thread each (a
// team of worker actors, in actors/): the runner a LayerWork carries and how many run at once.
#pragma once

#include "lifecycle/layer_work.hpp"

namespace dcomp::pipeline {

class SolveRunner {
 public:
  virtual ~SolveRunner() = default;
  /// How many solves run at once (at least one).
  virtual int workers() const = 0;
  /// The runner a LayerWork carries (LayerWork::parallel_for), valid while this object lives.
  virtual lifecycle::ParallelFor runner() = 0;
};

}  // namespace dcomp::pipeline
