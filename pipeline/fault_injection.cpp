#include "pipeline/fault_injection.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace dcomp::pipeline {

void kill_if_requested(int rank, int layer) {
  const char* setting = std::getenv("DCOMP_FAULT_KILL");
  if (setting == nullptr) return;
  int target_rank = -1;
  int target_layer = -1;
  if (std::sscanf(setting, "%d:%d", &target_rank, &target_layer) != 2) return;
  if (target_rank != rank || target_layer != layer) return;
  spdlog::warn("DCOMP_FAULT_KILL={}: killing rank {} in layer {}", setting, rank, layer);
  spdlog::default_logger()->flush();
  std::raise(SIGKILL);
}

}  // namespace dcomp::pipeline
