// Process-wide logging: spdlog with the rank in every line. Rank 0 logs to the
// console at the chosen level; other ranks print only warnings and errors, so a
// failure on any rank is still visible.
#pragma once

#include <string>

#include <spdlog/spdlog.h>

namespace dcomp::logging {

/// Installs the "dcomp" logger as default for this rank (call again after the
/// rank is known). Pattern: "[time] [rank R/W] [level] message".
void configure(int rank, int world_size);
/// "trace" | "debug" | "info" | "warn" | "error" | "off".
void set_level(const std::string& level);

}  // namespace dcomp::logging
