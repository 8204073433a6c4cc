// Whether every rank of the job sees a folder rank 0 made: the ranks write their layers'
// shards into rank 0's temporary output folder, so its file system must be one every node
// shares. Asked of all ranks at once (a collective), so that all of them stop together, with
// the same message naming the ranks (and their hosts) that do not see it.
#pragma once

#include <filesystem>
#include <string>

#include "kernels/comm/communicator.hpp"

namespace dcomp::pipeline {

/// A collective: "" when every rank sees `folder` as a folder, else the ranks that do not,
/// as "rank 2 on host nodeb, rank 3 on host nodeb (rank 0 is on host nodea)".
std::string ranks_not_seeing_folder(const std::filesystem::path& folder, comm::Communicator& comm);

}  // namespace dcomp::pipeline
