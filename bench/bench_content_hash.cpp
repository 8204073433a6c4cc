// The resume fingerprint's content hash against reading the same bytes.
//
// Writes a file of random bytes (default 1024 MiB) into the system temp folder, reads it
// once to bring it into the page cache, then times in one run, best of 3 each:
//   (a) plain fread of the whole file in 8 MiB blocks (the I/O floor),
//   (b) io::file_content_hash (fread plus the 4-lane hash),
//   (c) the byte-at-a-time FNV-1a that the fingerprint used for config and dataset files.
// It prints GB/s of each and the ratios to (a): a hash at about (a)'s rate runs at disk
// speed (a cached read is faster than any disk), so fingerprinting a model costs one read
// of its weights.
//
// Usage: bench_content_hash [MiB]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "kernels/io/content_hash.hpp"
#include "kernels/platform/blas_core_restart.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kBlock = size_t{8} << 20;

// Reads the file in blocks and hands each to `consume`; returns the seconds taken.
template <typename Consume>
double timed_read(const std::filesystem::path& path, Consume consume) {
  const auto started = Clock::now();
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw std::runtime_error(path.string() + ": cannot be read");
  std::unique_ptr<unsigned char[]> block(new unsigned char[kBlock]);
  size_t got = 0;
  while ((got = std::fread(block.get(), 1, kBlock, file.get())) > 0) consume(block.get(), got);
  return std::chrono::duration<double>(Clock::now() - started).count();
}

template <typename Run>
double best_of_three(Run run) {
  double best = 1e30;
  for (int trial = 0; trial < 3; ++trial) best = std::min(best, run());
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  dcomp::platform::ensure_best_blas_core(argc, argv);
  const size_t mebibytes = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  if (mebibytes == 0) {
    std::fprintf(stderr, "usage: bench_content_hash [MiB > 0]\n");
    return 2;
  }
  const auto path = std::filesystem::temp_directory_path() / ("dcomp-bench-hash-" + std::to_string(::getpid()));
  {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(path.c_str(), "wb"), &std::fclose);
    if (!out) throw std::runtime_error(path.string() + ": cannot be written");
    std::mt19937_64 generator(1);
    std::unique_ptr<uint64_t[]> block(new uint64_t[kBlock / 8]);
    for (size_t written = 0; written < mebibytes << 20; written += kBlock) {
      for (size_t i = 0; i < kBlock / 8; ++i) block[i] = generator();
      std::fwrite(block.get(), 1, std::min(kBlock, (mebibytes << 20) - written), out.get());
    }
  }
  const double bytes = static_cast<double>(mebibytes << 20);
  uint64_t sink = 0;
  timed_read(path, [&](const unsigned char* data, size_t n) { sink += data[n - 1]; });  // into the page cache

  const double read = best_of_three([&] {
    return timed_read(path, [&](const unsigned char* data, size_t n) { sink += data[0] + data[n - 1]; });
  });
  std::string digest;
  const double hashed = best_of_three([&] {
    const auto started = Clock::now();
    digest = dcomp::io::file_content_hash(path);
    return std::chrono::duration<double>(Clock::now() - started).count();
  });
  uint64_t fnv = 1469598103934665603ULL;
  const double fnv_seconds = best_of_three([&] {
    fnv = 1469598103934665603ULL;
    return timed_read(path, [&](const unsigned char* data, size_t n) {
      for (size_t i = 0; i < n; ++i) fnv = (fnv ^ data[i]) * 1099511628211ULL;
    });
  });
  std::filesystem::remove(path);

  std::printf("content hash of a %zu MiB file (page cache), best of 3\n", mebibytes);
  std::printf("  fread only                 %7.2f GB/s\n", bytes / read / 1e9);
  std::printf("  io::file_content_hash      %7.2f GB/s  (%.2fx the read time)  %s\n", bytes / hashed / 1e9,
              hashed / read, digest.c_str());
  std::printf("  FNV-1a, a byte at a time   %7.2f GB/s  (%.2fx the read time)  %016llx\n", bytes / fnv_seconds / 1e9,
              fnv_seconds / read, static_cast<unsigned long long>(fnv));
  std::printf("  (checksum of the reads: %llu)\n", static_cast<unsigned long long>(sink));
  return 0;
}
