// The resume tests' fault hook: its setting parsed as written in DCOMP_FAULT_KILL, and a process
// named by it dies by SIGKILL (a forked child, checked from its exit status) while others go on.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>
#include <string>

#include "pipeline/fault_injection.hpp"

namespace dcomp::pipeline {
namespace {

TEST(FaultKill, ParsesRankAndLayerAndRefusesAnythingElseByName) {
  EXPECT_FALSE(parse_fault_kill("", "DCOMP_FAULT_KILL").has_value());
  const auto fault = parse_fault_kill("1:30", "DCOMP_FAULT_KILL");
  ASSERT_TRUE(fault.has_value());
  EXPECT_EQ(fault->rank, 1);
  EXPECT_EQ(fault->layer, 30);
  for (const std::string bad : {"1", "1:", ":2", "-1:2", "1:2:3", "a:b", " 1:2", "1:2x"}) {
    try {
      parse_fault_kill(bad, "DCOMP_FAULT_KILL");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("DCOMP_FAULT_KILL=\"" + bad + "\""), std::string::npos) << e.what();
    }
  }
}

int exit_of_child(const std::optional<FaultKill>& fault, int rank, int layer) {
  const pid_t child = fork();
  if (child == 0) {
    kill_if_requested(fault, rank, layer);
    _exit(7);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

TEST(FaultKill, KillsOnlyTheNamedRankInTheNamedLayer) {
  const std::optional<FaultKill> fault = FaultKill{1, 3};
  EXPECT_EQ(exit_of_child(fault, 1, 3), -SIGKILL);
  EXPECT_EQ(exit_of_child(fault, 0, 3), 7);
  EXPECT_EQ(exit_of_child(fault, 1, 2), 7);
  EXPECT_EQ(exit_of_child(std::nullopt, 1, 3), 7);
}

}  // namespace
}  // namespace dcomp::pipeline
