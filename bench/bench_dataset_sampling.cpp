// Lazy calibration sampling against tokenizing the whole text first.
//
// Writes one line of text of the given size (default 50 MiB: TinyStories sentences
// joined without a newline) into the system temp folder, then times in one run:
//   (a) data::load_samples for 8 samples of 64 tokens, which tokenizes only the blocks
//       it draws from (kernels/data/text_blocks.hpp),
//   (b) data::load_token_stream, which tokenizes the whole file, as sampling did before
//       it read text in blocks.
// It prints the seconds and peak resident memory growth of each and the ratio (b)/(a).
// (a) runs first so that its memory peak is not hidden by (b)'s.
//
// Usage: bench_dataset_sampling <tokenizer folder> <text file to repeat> [MiB]
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "kernels/data/dataset.hpp"
#include "kernels/tokenizer/tokenizer.hpp"
#include "kernels/platform/blas_core_restart.hpp"

namespace {

using Clock = std::chrono::steady_clock;

long peak_resident_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  dcomp::platform::ensure_best_blas_core(argc, argv);
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_dataset_sampling <tokenizer folder> <text file> [MiB]\n");
    return 2;
  }
  const size_t mebibytes = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 50;
  const auto tokenizer = dcomp::tok::Tokenizer::from_dir(argv[1]);
  std::ifstream source(argv[2], std::ios::binary);
  std::ostringstream text;
  text << source.rdbuf();
  std::string sentences = text.str();
  for (char& c : sentences) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (sentences.empty() || mebibytes == 0) {
    std::fprintf(stderr, "bench_dataset_sampling: empty text file or size\n");
    return 2;
  }
  const auto path = std::filesystem::temp_directory_path() / ("dcomp-bench-line-" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream out(path, std::ios::binary);
    const size_t wanted = mebibytes << 20;
    for (size_t written = 0; written < wanted; written += sentences.size()) out << sentences;
  }
  dcomp::data::SampleOptions options;
  options.num_samples = 8;
  options.max_seq_length = 64;

  const long rss_start = peak_resident_kib();
  auto started = Clock::now();
  const auto samples = dcomp::data::load_samples(path, tokenizer, options);
  const double lazy_s = std::chrono::duration<double>(Clock::now() - started).count();
  const long rss_lazy = peak_resident_kib();
  started = Clock::now();
  const auto stream = dcomp::data::load_token_stream(path, tokenizer);
  const double full_s = std::chrono::duration<double>(Clock::now() - started).count();
  const long rss_full = peak_resident_kib();
  std::filesystem::remove(path);

  std::printf("one line of %zu MiB, %zu samples of %zu tokens\n", mebibytes, samples.size(), options.max_seq_length);
  std::printf("(a) load_samples (lazy blocks): %8.3f s  peak memory +%ld MiB\n", lazy_s, (rss_lazy - rss_start) / 1024);
  std::printf("(b) whole text tokenized:       %8.3f s  peak memory +%ld MiB  (%zu tokens)\n", full_s,
              (rss_full - rss_lazy) / 1024, stream.size());
  std::printf("ratio (b)/(a) time: %.0fx\n", full_s / lazy_s);
  return 0;
}
