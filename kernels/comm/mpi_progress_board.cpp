// reference: see mpi_progress_board.hpp
#include "kernels/comm/mpi_progress_board.hpp"

#include <thread>

namespace dcomp::comm {
namespace {

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  return std::string(text, static_cast<size_t>(length));
}

class MpiProgressBoard final : public ProgressBoard {
 public:
  MpiProgressBoard(MPI_Win window, int rank, int size) : window_(window), rank_(rank), size_(size) {}

  ~MpiProgressBoard() override {
    MPI_Win_unlock_all(window_);
    MPI_Win_free(&window_);
  }

  void publish(const RankProgress& progress) override {
    const int64_t words[2] = {progress.entered, progress.beats};
    // Errors are ignored: the board only serves the message of a timeout.
    MPI_Accumulate(words, 2, MPI_INT64_T, rank_, 0, 2, MPI_INT64_T, MPI_REPLACE, window_);
    MPI_Win_flush(rank_, window_);
  }

  std::vector<std::optional<RankProgress>> read_all(std::chrono::milliseconds grace) override {
    std::vector<std::optional<RankProgress>> progress(static_cast<size_t>(size_));
    std::vector<int64_t> words(static_cast<size_t>(2 * size_), 0);
    std::vector<MPI_Request> requests(static_cast<size_t>(size_), MPI_REQUEST_NULL);
    std::vector<bool> posted(static_cast<size_t>(size_), false);
    for (int r = 0; r < size_; ++r) {
      posted[static_cast<size_t>(r)] =
          MPI_Rget_accumulate(nullptr, 0, MPI_INT64_T, &words[static_cast<size_t>(2 * r)], 2, MPI_INT64_T, r, 0, 2,
                              MPI_INT64_T, MPI_NO_OP, window_, &requests[static_cast<size_t>(r)]) == MPI_SUCCESS;
    }
    const auto deadline = std::chrono::steady_clock::now() + grace;
    std::vector<bool> done(static_cast<size_t>(size_), false);
    for (bool waiting = true; waiting && std::chrono::steady_clock::now() < deadline;) {
      waiting = false;
      for (int r = 0; r < size_; ++r) {
        const auto i = static_cast<size_t>(r);
        if (!posted[i] || done[i]) continue;
        int complete = 0;
        if (MPI_Test(&requests[i], &complete, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
          posted[i] = false;
          continue;
        }
        done[i] = complete != 0;
        waiting = waiting || !done[i];
      }
      if (waiting) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (int r = 0; r < size_; ++r) {
      const auto i = static_cast<size_t>(r);
      if (done[i]) progress[i] = RankProgress{words[2 * i], words[2 * i + 1]};
    }
    return progress;
  }

 private:
  MPI_Win window_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

std::unique_ptr<ProgressBoard> make_mpi_progress_board(MPI_Comm comm, std::string* why_not) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int64_t* base = nullptr;
  MPI_Win window = MPI_WIN_NULL;
  const int code = MPI_Win_allocate(static_cast<MPI_Aint>(2 * sizeof(int64_t)), static_cast<int>(sizeof(int64_t)),
                                    MPI_INFO_NULL, comm, &base, &window);
  if (code != MPI_SUCCESS) {
    if (why_not) *why_not = "MPI_Win_allocate failed: " + mpi_error_text(code);
    return nullptr;
  }
  MPI_Win_set_errhandler(window, MPI_ERRORS_RETURN);
  const int lock = MPI_Win_lock_all(MPI_MODE_NOCHECK, window);
  if (lock != MPI_SUCCESS) {
    if (why_not) *why_not = "MPI_Win_lock_all failed: " + mpi_error_text(lock);
    MPI_Win_free(&window);
    return nullptr;
  }
  auto board = std::make_unique<MpiProgressBoard>(window, rank, size);
  board->publish({0, 0});
  return board;
}

}  // namespace dcomp::comm
