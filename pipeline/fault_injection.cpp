#include "pipeline/fault_injection.hpp"

#include <spdlog/spdlog.h>

#include <csignal>
#include <stdexcept>

namespace dcomp::pipeline {

std::optional<FaultKill> parse_fault_kill(const std::string& text, const std::string& what) {
  if (text.empty()) return std::nullopt;
  const size_t colon = text.find(':');
  const auto whole = [](const std::string& digits) {
    return !digits.empty() && digits.size() <= 9 && digits.find_first_not_of("0123456789") == std::string::npos;
  };
  if (colon == std::string::npos || !whole(text.substr(0, colon)) || !whole(text.substr(colon + 1))) {
    throw std::invalid_argument(what + "=\"" + text + "\" is not <rank>:<layer> (two non-negative integers)");
  }
  return FaultKill{std::stoi(text.substr(0, colon)), std::stoi(text.substr(colon + 1))};
}

void kill_if_requested(const std::optional<FaultKill>& fault, int rank, int layer) {
  if (!fault || fault->rank != rank || fault->layer != layer) return;
  spdlog::warn("fault injection: killing rank {} in layer {}", rank, layer);
  spdlog::default_logger()->flush();
  std::raise(SIGKILL);
}

}  // namespace dcomp::pipeline
