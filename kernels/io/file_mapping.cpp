// reference: POSIX mmap(2), open(2), fstat(2)

#include "kernels/io/file_mapping.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernels/io/safetensors.hpp"

namespace dcomp::io::detail {
namespace {

[[noreturn]] void throw_errno(const std::filesystem::path& path, const std::string& what, int error) {
  throw SafetensorsError(path.string() + ": " + what + ": " + std::strerror(error));
}

// Closes a descriptor on every path out of map().
struct DescriptorGuard {
  int fd;
  ~DescriptorGuard() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::shared_ptr<const FileMapping> FileMapping::map(const std::filesystem::path& path) {
  DescriptorGuard guard{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (guard.fd < 0) throw_errno(path, "cannot open", errno);

  struct stat status {};
  if (::fstat(guard.fd, &status) != 0) throw_errno(path, "cannot stat", errno);
  if (!S_ISREG(status.st_mode)) throw SafetensorsError(path.string() + ": not a regular file");

  const auto size = static_cast<uint64_t>(status.st_size);
  if (size == 0) return std::shared_ptr<const FileMapping>(new FileMapping(nullptr, 0));

  void* address = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, guard.fd, 0);
  if (address == MAP_FAILED) throw_errno(path, "cannot mmap " + std::to_string(size) + " bytes", errno);
  // The mapping stays valid after the descriptor is closed (mmap(2)).
  return std::shared_ptr<const FileMapping>(new FileMapping(static_cast<const uint8_t*>(address), size));
}

FileMapping::~FileMapping() {
  if (bytes_ != nullptr) ::munmap(const_cast<uint8_t*>(bytes_), size_);
}

}  // namespace dcomp::io::detail
