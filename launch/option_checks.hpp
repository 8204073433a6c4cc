// Checks of option values shared by several subcommands, applied to the text before
// CLI11 converts it (its unsigned conversion would turn "-1" into 2^64 - 1).
#pragma once

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace dcomp::launch {

/// A seed: decimal digits only, in [0, 2^64 - 1] (no sign, no overflow, no octal or hex).
inline CLI::Validator seed_range() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const std::string problem = "Value " + text + " not in range 0 to 18446744073709551615 (decimal digits)";
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return problem;
        errno = 0;
        std::strtoull(text.c_str(), nullptr, 10);
        return errno == ERANGE ? problem : std::string();
      },
      "UINT in [0 - 18446744073709551615]", "seed range");
}

/// --kv-cache-rounding of the commands that run a checkpoint (eval, generate): how its FP8 KV
/// cache rounds (kernels/ct/kv_cache_rounding.hpp).
inline void add_kv_cache_rounding_option(CLI::App& command, std::string& rounding) {
  command
      .add_option("--kv-cache-rounding", rounding,
                  "How a checkpoint's FP8 KV cache rounds keys and values: nearest (vLLM on GPUs, "
                  "compressed-tensors) or toward-zero (vLLM's CPU build)")
      ->default_val("nearest")
      ->check(CLI::IsMember({"nearest", "toward-zero"}));
}

}  // namespace dcomp::launch
