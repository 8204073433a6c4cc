// reference: Open MPI 4.1 mpirun(1) (OMPI_COMM_WORLD_LOCAL_SIZE, OMPI_COMM_WORLD_LOCAL_RANK);
// Slurm 22.05 srun(1), "OUTPUT ENVIRONMENT VARIABLES" (SLURM_STEP_TASKS_PER_NODE, SLURM_NODEID,
// SLURM_NTASKS_PER_NODE, SLURM_LOCALID, SLURM_CPUS_PER_TASK); PyTorch distributed (LOCAL_RANK).
#include "kernels/platform/launcher_environment.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace dcomp::platform {
namespace {

constexpr long kMaxRanksPerNode = 1 << 20;

// A whole decimal number in [minimum, kMaxRanksPerNode], or nothing.
bool parse_count(const std::string& text, long minimum, long* value) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 7) return false;
  *value = std::strtol(text.c_str(), nullptr, 10);
  return *value >= minimum && *value <= kMaxRanksPerNode;
}

std::invalid_argument malformed(const char* name, const std::string& value, const std::string& what) {
  return std::invalid_argument(std::string(name) + "=\"" + value + "\" is not " + what);
}

// A positive count from `name`, or 0 when it is unset or empty.
int positive_count(const EnvironmentLookup& lookup, const char* name) {
  const char* value = lookup(name);
  if (value == nullptr || *value == '\0') return 0;
  long count = 0;
  if (!parse_count(value, 1, &count)) throw malformed(name, value, "a number of ranks on a node (a positive integer)");
  return static_cast<int>(count);
}

}  // namespace

int slurm_tasks_on_node(const std::string& tasks_per_node, int node) {
  // Entries "<tasks>" or "<tasks>(x<nodes>)", comma-separated, in node order; the whole list
  // is read before any node's count is given.
  const std::invalid_argument bad("Slurm task count list \"" + tasks_per_node +
                                  "\" is not \"<tasks>[(x<nodes>)],...\"");
  if (node < 0) throw std::invalid_argument("no node has the index " + std::to_string(node));
  long first_node = 0;
  int tasks_on_node = -1;
  for (size_t begin = 0; begin <= tasks_per_node.size();) {
    size_t end = tasks_per_node.find(',', begin);
    if (end == std::string::npos) end = tasks_per_node.size();
    const std::string entry = tasks_per_node.substr(begin, end - begin);
    const size_t repeat = entry.find("(x");
    long tasks = 0, nodes = 1;
    if (!parse_count(entry.substr(0, repeat), 0, &tasks)) throw bad;
    if (repeat != std::string::npos &&
        (entry.back() != ')' || !parse_count(entry.substr(repeat + 2, entry.size() - repeat - 3), 1, &nodes))) {
      throw bad;
    }
    if (tasks_on_node < 0 && node < first_node + nodes) tasks_on_node = static_cast<int>(tasks);
    first_node += nodes;
    if (first_node > kMaxRanksPerNode) throw bad;
    begin = end + 1;
  }
  if (tasks_on_node < 0) {
    throw std::invalid_argument("Slurm task count list \"" + tasks_per_node + "\" has " + std::to_string(first_node) +
                                " node(s), none with index " + std::to_string(node));
  }
  return tasks_on_node;
}

int ranks_on_this_node(const EnvironmentLookup& lookup) {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"}) {
    if (const int count = positive_count(lookup, name)) return count;
  }
  const char* step_layout = lookup("SLURM_STEP_TASKS_PER_NODE");
  const char* node_id = lookup("SLURM_NODEID");
  if (step_layout != nullptr && *step_layout != '\0' && node_id != nullptr && *node_id != '\0') {
    long node = 0;
    if (!parse_count(node_id, 0, &node)) throw malformed("SLURM_NODEID", node_id, "a node index (a non-negative integer)");
    int tasks = 0;
    try {
      tasks = slurm_tasks_on_node(step_layout, static_cast<int>(node));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("SLURM_STEP_TASKS_PER_NODE at SLURM_NODEID=") + node_id + ": " + e.what());
    }
    if (tasks > 0) return tasks;
  }
  if (const int count = positive_count(lookup, "SLURM_NTASKS_PER_NODE")) return count;
  return 1;
}

const char* process_environment(const char* name) { return std::getenv(name); }

int local_rank_from_environment(const EnvironmentLookup& lookup) {
  for (const char* name : {"LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"}) {
    const char* value = lookup(name);
    if (value == nullptr || *value == '\0') continue;
    char* end = nullptr;
    const long parsed = std::strtol(value, &end, 10);
    if (end == value || *end != '\0' || parsed < 0 || parsed > 1 << 20) {
      throw std::invalid_argument(std::string(name) + "=\"" + value +
                                  "\" is not a node-local rank (a non-negative integer)");
    }
    return static_cast<int>(parsed);
  }
  return 0;
}

bool launched_by_mpi_launcher(const EnvironmentLookup& lookup) {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"}) {
    if (lookup(name) != nullptr) return true;
  }
  return false;
}

int threads_from_launcher(const EnvironmentLookup& lookup) {
  for (const char* name : {"OMP_NUM_THREADS", "SLURM_CPUS_PER_TASK"}) {
    const char* value = lookup(name);
    if (value == nullptr || *value == '\0') continue;
    char* end = nullptr;
    const long parsed = std::strtol(value, &end, 10);
    if (end != value && *end == '\0' && parsed > 0 && parsed < 4096) return static_cast<int>(parsed);
  }
  return 0;
}

}  // namespace dcomp::platform
