// What the launcher tells a rank (kernels/platform/launcher_environment): the number of ranks on a
// node, the rank's index there, MPI launch and CPUs per task, from the environment mpirun and srun
// give each rank. The
// Slurm values are those srun 22.05 set on a cluster of two nodes (tests/cluster): with
// `srun -N 2 -n 4` SLURM_STEP_TASKS_PER_NODE="2(x2)" and no SLURM_NTASKS_PER_NODE; with
// `srun -N 2 -n 3` "2,1"; with `srun -n 2` inside `sbatch -N 2 --ntasks-per-node 2`
// "1(x2)" beside the job's SLURM_NTASKS_PER_NODE=2.
#include "kernels/platform/launcher_environment.hpp"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

namespace dcomp::platform {
namespace {

struct FakeEnvironment {
  std::map<std::string, std::string> variables;
  EnvironmentLookup lookup() const {
    return [this](const char* name) -> const char* {
      auto it = variables.find(name);
      return it == variables.end() ? nullptr : it->second.c_str();
    };
  }
};

TEST(RanksOnThisNode, OneWithoutALauncher) { EXPECT_EQ(ranks_on_this_node(FakeEnvironment{}.lookup()), 1); }

TEST(RanksOnThisNode, SrunWithoutTasksPerNodeReadsTheStepLayout) {
  // srun -N 2 -n 4: two ranks on each node, though SLURM_NTASKS_PER_NODE is unset.
  for (const char* node : {"0", "1"}) {
    FakeEnvironment env{{{"SLURM_STEP_TASKS_PER_NODE", "2(x2)"}, {"SLURM_NODEID", node}, {"SLURM_LOCALID", "1"}}};
    EXPECT_EQ(ranks_on_this_node(env.lookup()), 2) << "node " << node;
  }
}

TEST(RanksOnThisNode, UnevenStepLayoutGivesEachNodeItsOwnCount) {
  // srun -N 2 -n 3: 2 ranks on the first node, 1 on the second.
  FakeEnvironment env{{{"SLURM_STEP_TASKS_PER_NODE", "2,1"}, {"SLURM_NODEID", "0"}}};
  EXPECT_EQ(ranks_on_this_node(env.lookup()), 2);
  env.variables["SLURM_NODEID"] = "1";
  EXPECT_EQ(ranks_on_this_node(env.lookup()), 1);
}

TEST(RanksOnThisNode, TheStepLayoutWinsOverTheJobsTasksPerNode) {
  // srun -n 2 inside sbatch -N 2 --ntasks-per-node 2: one rank per node.
  FakeEnvironment env{{{"SLURM_STEP_TASKS_PER_NODE", "1(x2)"}, {"SLURM_NODEID", "1"}, {"SLURM_NTASKS_PER_NODE", "2"}}};
  EXPECT_EQ(ranks_on_this_node(env.lookup()), 1);
  env.variables.erase("SLURM_STEP_TASKS_PER_NODE");  // no step layout: the job's request
  EXPECT_EQ(ranks_on_this_node(env.lookup()), 2);
}

TEST(RanksOnThisNode, MpirunsLocalSizeComesFirst) {
  // mpirun inside an allocation: its own placement, whatever Slurm's batch step says.
  FakeEnvironment env{{{"OMPI_COMM_WORLD_LOCAL_SIZE", "3"}, {"SLURM_STEP_TASKS_PER_NODE", "1"}, {"SLURM_NODEID", "0"}}};
  EXPECT_EQ(ranks_on_this_node(env.lookup()), 3);
  env.variables.erase("OMPI_COMM_WORLD_LOCAL_SIZE");
  env.variables["MPI_LOCALNRANKS"] = "5";
  EXPECT_EQ(ranks_on_this_node(env.lookup()), 5);
}

TEST(SlurmTasksOnNode, ExpandsRepeatedEntriesInNodeOrder) {
  const int expected[] = {2, 2, 2, 1, 4};
  for (int node = 0; node < 5; ++node) EXPECT_EQ(slurm_tasks_on_node("2(x3),1,4", node), expected[node]) << node;
  EXPECT_THROW(slurm_tasks_on_node("2(x3),1,4", 5), std::invalid_argument);
  EXPECT_THROW(slurm_tasks_on_node("2(x3),1,4", -1), std::invalid_argument);
}

TEST(RanksOnThisNode, MalformedValuesAreErrorsNamingTheVariable) {
  struct Case {
    std::string named;  // the variable the message must name
    std::map<std::string, std::string> variables;
  };
  const Case cases[] = {
      {"OMPI_COMM_WORLD_LOCAL_SIZE=\"0\"", {{"OMPI_COMM_WORLD_LOCAL_SIZE", "0"}}},
      {"SLURM_NTASKS_PER_NODE=\"2a\"", {{"SLURM_NTASKS_PER_NODE", "2a"}}},
      {"SLURM_STEP_TASKS_PER_NODE", {{"SLURM_STEP_TASKS_PER_NODE", "2(x"}, {"SLURM_NODEID", "0"}}},
      {"SLURM_STEP_TASKS_PER_NODE", {{"SLURM_STEP_TASKS_PER_NODE", "2(x2),"}, {"SLURM_NODEID", "0"}}},
      {"SLURM_STEP_TASKS_PER_NODE", {{"SLURM_STEP_TASKS_PER_NODE", "2(x2)"}, {"SLURM_NODEID", "2"}}},
      {"SLURM_NODEID=\"-1\"", {{"SLURM_STEP_TASKS_PER_NODE", "2(x2)"}, {"SLURM_NODEID", "-1"}}},
  };
  for (const auto& c : cases) {
    FakeEnvironment env{c.variables};
    try {
      ranks_on_this_node(env.lookup());
      ADD_FAILURE() << "accepted the values for " << c.named;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(c.named), std::string::npos) << e.what();
    }
  }
}


TEST(LocalRank, FirstSetVariableWinsInLaunchersOrder) {
  std::map<std::string, std::string> env;
  auto lookup = [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  EXPECT_EQ(local_rank_from_environment(lookup), 0);
  env["SLURM_LOCALID"] = "5";
  EXPECT_EQ(local_rank_from_environment(lookup), 5);
  env["OMPI_COMM_WORLD_LOCAL_RANK"] = "3";
  EXPECT_EQ(local_rank_from_environment(lookup), 3);
  env["LOCAL_RANK"] = "1";
  EXPECT_EQ(local_rank_from_environment(lookup), 1);
  env["LOCAL_RANK"] = "";  // set but empty: ignored
  EXPECT_EQ(local_rank_from_environment(lookup), 3);
}

TEST(LocalRank, MalformedValueIsAnErrorNamingTheVariable) {
  for (const std::string value : {"x", "-1", "2a", "1.5"}) {
    auto lookup = [&value](const char* name) -> const char* {
      return std::string(name) == "OMPI_COMM_WORLD_LOCAL_RANK" ? value.c_str() : nullptr;
    };
    try {
      local_rank_from_environment(lookup);
      ADD_FAILURE() << "accepted " << value;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("OMPI_COMM_WORLD_LOCAL_RANK=\"" + value + "\""), std::string::npos)
          << e.what();
    }
  }
}

TEST(MpiLauncher, AnyOfTheLaunchersVariablesSaysSo) {
  EXPECT_FALSE(launched_by_mpi_launcher(FakeEnvironment{}.lookup()));
  EXPECT_FALSE(launched_by_mpi_launcher(FakeEnvironment{{{"SLURM_LOCALID", "0"}, {"LOCAL_RANK", "0"}}}.lookup()));
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"}) {
    EXPECT_TRUE(launched_by_mpi_launcher(FakeEnvironment{{{name, "2"}}}.lookup())) << name;
  }
}

TEST(ThreadsFromLauncher, OmpNumThreadsThenSlurmCpusPerTask) {
  EXPECT_EQ(threads_from_launcher(FakeEnvironment{}.lookup()), 0);
  EXPECT_EQ(threads_from_launcher(FakeEnvironment{{{"SLURM_CPUS_PER_TASK", "6"}}}.lookup()), 6);
  EXPECT_EQ(threads_from_launcher(FakeEnvironment{{{"SLURM_CPUS_PER_TASK", "6"}, {"OMP_NUM_THREADS", "3"}}}.lookup()), 3);
  // A value that is not a whole number in 1..4095 is passed over, as OpenMP itself would not use it.
  for (const char* bad : {"", "0", "-2", "4x", "4096"}) {
    EXPECT_EQ(threads_from_launcher(FakeEnvironment{{{"OMP_NUM_THREADS", bad}, {"SLURM_CPUS_PER_TASK", "5"}}}.lookup()), 5)
        << bad;
  }
}

}  // namespace
}  // namespace dcomp::platform
