// reference: see folder_seen_by_every_rank.hpp.
#include "pipeline/folder_seen_by_every_rank.hpp"


#include <system_error>
#include <vector>

#include "kernels/platform/host_name.hpp"

namespace dcomp::pipeline {

std::string ranks_not_seeing_folder(const std::filesystem::path& folder, comm::Communicator& comm) {
  std::error_code error;
  const bool seen = std::filesystem::is_directory(folder, error);
  // Each rank's answer: "1<host>" when it sees the folder, "0<host>" when not.
  const std::vector<std::string> answers = comm.all_gather_bytes((seen ? "1" : "0") + platform::host_name());
  std::string blind;
  for (size_t rank = 0; rank < answers.size(); ++rank) {
    if (answers[rank].empty() || answers[rank][0] == '1') continue;
    blind += (blind.empty() ? "rank " : ", rank ") + std::to_string(rank) + " on host " + answers[rank].substr(1);
  }
  if (blind.empty() || answers.empty()) return blind;
  return blind + " (rank 0 is on host " + answers[0].substr(1) + ")";
}

}  // namespace dcomp::pipeline
