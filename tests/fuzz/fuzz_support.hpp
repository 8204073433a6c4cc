// Helpers shared by the fuzz targets: the contract every parser must keep (it
// succeeds or throws a std::exception with a message), a check that stops the run
// when an accepted input breaks an invariant, and a tmpfs scratch folder for the
// entry points that read files.
// reference: https://llvm.org/docs/LibFuzzer.html
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <typeinfo>

namespace dcomp::fuzz {

/// Stops the run with `what` (libFuzzer saves the input as a crash artifact).
[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz target: %s\n", what.c_str());
  std::abort();
}

/// An invariant of an accepted input.
inline void check(bool condition, const std::string& what) {
  if (!condition) fail("invariant broken: " + what);
}

/// Runs `parse`. A rejected input (any std::exception) ends the run normally, as long
/// as the exception says what is wrong. With DCOMP_FUZZ_STRICT=1 in the environment,
/// only the parser's own error type `Expected` counts as a rejection: any other
/// exception (a library's conversion error leaking through, say) stops the run, which
/// finds messages that do not name the file or the field.
template <class Expected, class Parse>
void parse_or_reject(Parse&& parse) {
  static const bool strict = [] {
    const char* value = std::getenv("DCOMP_FUZZ_STRICT");
    return value != nullptr && std::string(value) == "1";
  }();
  try {
    parse();
  } catch (const Expected& error) {
    if (error.what() == nullptr || error.what()[0] == '\0') fail("an exception without a message");
  } catch (const std::exception& error) {
    if (error.what() == nullptr || error.what()[0] == '\0') fail("an exception without a message");
    if (strict) fail(std::string("unexpected exception type ") + typeid(error).name() + ": " + error.what());
  }
}

/// A folder on tmpfs (/dev/shm when present) for this process, removed at exit.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    std::error_code error;
    std::filesystem::path base = "/dev/shm";
    if (!std::filesystem::is_directory(base, error)) base = std::filesystem::temp_directory_path();
    path_ = base / ("dcomp-fuzz-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  /// Writes `size` bytes to <folder>/<file_name> and returns its path.
  std::filesystem::path write(const std::string& file_name, const uint8_t* data, size_t size) const {
    const std::filesystem::path file = path_ / file_name;
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.close();
    if (!out) fail("cannot write " + file.string());
    return file;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace dcomp::fuzz
