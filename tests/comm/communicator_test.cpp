// Communicator collectives against values every rank can compute by brute
// force. Runs in one process (single backend, and MPI as a 1-rank world) and
// under mpirun with 2 and 4 ranks (label mpi).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "kernels/comm/communicator.hpp"
#if defined(DCOMP_HAVE_MPI)
#include "kernels/comm/mpi_progress_board.hpp"
#endif
#if defined(DCOMP_HAVE_NCCL)
#include <cuda_runtime.h>

#include "kernels/comm/nccl_communicator.hpp"
#endif

namespace dcomp::comm {
namespace {

Communicator& world() {
#if defined(DCOMP_HAVE_MPI)
  static std::unique_ptr<Communicator> comm = make_mpi_communicator();
#else
  static std::unique_ptr<Communicator> comm = make_single_communicator();
#endif
  return *comm;
}

/// The value rank r contributes at flat index i.
double contribution(int r, int64_t i) { return (r + 1) * 0.5 + static_cast<double>(i % 7) - 3.0 * (r % 2); }

TEST(Communicator, AllReduceSumMaxMinMatchBruteForce) {
  auto& comm = world();
  const int world_size = comm.world_size();
  for (auto dtype : {at::kFloat, at::kDouble, at::kLong, at::kInt}) {
    at::Tensor mine = at::empty({3, 5}, at::kDouble);
    for (int64_t i = 0; i < 15; ++i) mine.view({-1})[i] = contribution(comm.rank(), i) * 2;  // integral values
    at::Tensor expected_sum = at::zeros({3, 5}, at::kDouble);
    at::Tensor expected_max = at::full({3, 5}, -1e300, at::kDouble);
    at::Tensor expected_min = at::full({3, 5}, 1e300, at::kDouble);
    for (int r = 0; r < world_size; ++r) {
      at::Tensor theirs = at::empty({3, 5}, at::kDouble);
      for (int64_t i = 0; i < 15; ++i) theirs.view({-1})[i] = contribution(r, i) * 2;
      expected_sum += theirs;
      expected_max = at::maximum(expected_max, theirs);
      expected_min = at::minimum(expected_min, theirs);
    }
    at::Tensor sum = mine.to(dtype).clone(), max = mine.to(dtype).clone(), min = mine.to(dtype).clone();
    comm.all_reduce(sum, ReduceOp::Sum);
    comm.all_reduce(max, ReduceOp::Max);
    comm.all_reduce(min, ReduceOp::Min);
    EXPECT_TRUE(at::equal(sum.to(at::kDouble), expected_sum)) << at::toString(dtype);
    EXPECT_TRUE(at::equal(max.to(at::kDouble), expected_max)) << at::toString(dtype);
    EXPECT_TRUE(at::equal(min.to(at::kDouble), expected_min)) << at::toString(dtype);
  }
}

TEST(Communicator, ReduceToRootOnlyRootHasTheSum) {
  auto& comm = world();
  const int root = comm.world_size() - 1;
  at::Tensor t = at::full({4}, static_cast<double>(comm.rank() + 1), at::kDouble);
  comm.reduce(t, ReduceOp::Sum, root);
  if (comm.rank() == root) {
    const double n = comm.world_size();
    EXPECT_TRUE(at::allclose(t, at::full({4}, n * (n + 1) / 2, at::kDouble)));
  }
}

TEST(Communicator, BroadcastFromEveryRoot) {
  auto& comm = world();
  for (int root = 0; root < comm.world_size(); ++root) {
    at::Tensor t = comm.rank() == root ? at::arange(10, at::kFloat) * (root + 1) : at::zeros({10}, at::kFloat);
    comm.broadcast(t, root);
    EXPECT_TRUE(at::equal(t, at::arange(10, at::kFloat) * (root + 1)));
  }
}

TEST(Communicator, BroadcastTensorCarriesShapeAndDtype) {
  auto& comm = world();
  at::Tensor source = at::arange(24, at::kInt).reshape({2, 3, 4});
  at::Tensor received = comm.broadcast_tensor(comm.rank() == 0 ? source : at::Tensor(), 0);
  EXPECT_EQ(received.scalar_type(), at::kInt);
  EXPECT_EQ(received.sizes(), source.sizes());
  EXPECT_TRUE(at::equal(received, source));
  at::Tensor half = at::arange(6, at::kFloat).to(at::kBFloat16).reshape({3, 2});
  at::Tensor received_half = comm.broadcast_tensor(comm.rank() == 0 ? half : at::Tensor(), 0);
  EXPECT_TRUE(at::equal(received_half, half));
}

TEST(Communicator, BytesBroadcastAndGather) {
  auto& comm = world();
  std::string text = comm.rank() == 0 ? std::string("hello from the root\0with a zero byte", 36) : "";
  comm.broadcast_bytes(text, 0);
  EXPECT_EQ(text, std::string("hello from the root\0with a zero byte", 36));
  auto parts = comm.all_gather_bytes(std::string(static_cast<size_t>(comm.rank()), 'x'));
  ASSERT_EQ(parts.size(), static_cast<size_t>(comm.world_size()));
  for (int r = 0; r < comm.world_size(); ++r) EXPECT_EQ(parts[static_cast<size_t>(r)], std::string(r, 'x'));
}

TEST(Communicator, ReductionsOnHalfPrecisionAreRefusedByName) {
  auto& comm = world();
  if (comm.world_size() == 1 && comm.backend_name() == "single") GTEST_SKIP() << "the single backend never reduces";
  at::Tensor t = at::ones({2}, at::kBFloat16);
  try {
    comm.all_reduce(t, ReduceOp::Sum);
    FAIL() << "expected BackendUnsupported";
  } catch (const BackendUnsupported& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("communicator backend 'mpi' does not support reductions on BFloat16"));
  }
}

#if defined(DCOMP_HAVE_MPI)
TEST(Communicator, EveryRankCountsTheSameCollectivesUnderTheWatchdog) {
  auto& comm = world();
  ASSERT_NE(comm.watchdog(), nullptr);
  const int64_t before = comm.watchdog()->collectives_entered();
  at::Tensor t = at::ones({3}, at::kFloat);
  comm.all_reduce(t, ReduceOp::Sum);
  comm.barrier();
  EXPECT_EQ(comm.watchdog()->collectives_entered(), before + 2);
  // Every rank has entered as many collectives (the gather's own two included).
  const auto counts = comm.all_gather_bytes(std::to_string(comm.watchdog()->collectives_entered()));
  for (const auto& count : counts) EXPECT_EQ(count, std::to_string(before + 2));
}

TEST(Communicator, TheProgressBoardReadsEveryRanksPublishedProgress) {
  auto& comm = world();
  std::string why_not;
  auto board = make_mpi_progress_board(MPI_COMM_WORLD, &why_not);
  ASSERT_NE(board, nullptr) << why_not;
  board->publish({100 + comm.rank(), 7 * comm.rank()});
  comm.barrier();  // every rank has published
  const auto progress = board->read_all(std::chrono::milliseconds(5000));
  ASSERT_EQ(progress.size(), static_cast<size_t>(comm.world_size()));
  for (int r = 0; r < comm.world_size(); ++r) {
    ASSERT_TRUE(progress[static_cast<size_t>(r)].has_value()) << "rank " << r << " could not be read";
    EXPECT_EQ(progress[static_cast<size_t>(r)]->entered, 100 + r);
    EXPECT_EQ(progress[static_cast<size_t>(r)]->beats, 7 * r);
  }
  comm.barrier();  // no rank frees the window while another reads it
}
#endif

TEST(Communicator, SingleBackendIsIdentity) {
  auto single = make_single_communicator();
  at::Tensor t = at::arange(5, at::kFloat);
  single->all_reduce(t, ReduceOp::Sum);
  EXPECT_TRUE(at::equal(t, at::arange(5, at::kFloat)));
  EXPECT_EQ(single->world_size(), 1);
  EXPECT_EQ(single->all_gather_bytes("a"), std::vector<std::string>{"a"});
}

TEST(Communicator, NcclBackend) {
#if defined(DCOMP_HAVE_NCCL)
  std::string reason;
  if (!cuda_device_available(&reason)) GTEST_SKIP() << "no GPU for the NCCL backend: " << reason;
  auto& comm = world();
  int devices = 0;
  cudaGetDeviceCount(&devices);
  if (devices < comm.world_size()) {
    GTEST_SKIP() << "NCCL needs one GPU per rank: " << devices << " GPU(s) for " << comm.world_size() << " rank(s)";
  }
  auto nccl = make_nccl_communicator(comm, comm.rank() % devices);
  at::Tensor t = at::full({8}, static_cast<float>(comm.rank() + 1), at::kFloat);
  nccl->all_reduce(t, ReduceOp::Sum);
  const float n = static_cast<float>(comm.world_size());
  EXPECT_TRUE(at::equal(t, at::full({8}, n * (n + 1) / 2, at::kFloat)));
#else
  GTEST_SKIP() << "this build has no NCCL (CUDA toolkit or NCCL not found at configure time)";
#endif
}

}  // namespace
}  // namespace dcomp::comm
