// reference: POSIX fsync(2), rename(2).
#include "kernels/io/durable_files.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace dcomp::io {

void sync_path(const std::filesystem::path& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path.string() + ": cannot open to sync: " + std::strerror(errno));
  const int result = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (result != 0) throw std::runtime_error(path.string() + ": fsync failed: " + std::strerror(error));
}

void replace_file_with(const std::filesystem::path& path,
                       const std::function<void(const std::filesystem::path& temporary)>& write) {
  const std::filesystem::path folder = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  const std::filesystem::path temporary = folder / ("." + path.filename().string() + ".tmp-" + random_name_suffix());
  try {
    write(temporary);
    sync_path(temporary, /*directory=*/false);
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
      throw std::runtime_error("cannot rename " + temporary.string() + " to " + path.string() + ": " +
                               std::strerror(errno));
    }
    sync_path(folder, /*directory=*/true);
  } catch (const std::exception& error) {
    std::remove(temporary.c_str());
    throw std::runtime_error(path.string() + ": cannot write: " + error.what());
  }
}

void replace_file_durably(const std::filesystem::path& path, const std::string& contents) {
  replace_file_with(path, [&](const std::filesystem::path& temporary) {
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error(temporary.string() + ": cannot create: " + std::strerror(errno));
    size_t written = 0;
    while (written < contents.size()) {
      const ssize_t count = ::write(fd, contents.data() + written, contents.size() - written);
      if (count < 0 && errno == EINTR) continue;
      if (count <= 0) {
        const int error = count < 0 ? errno : ENOSPC;
        ::close(fd);
        throw std::runtime_error(temporary.string() + ": " + std::strerror(error));
      }
      written += static_cast<size_t>(count);
    }
    if (::close(fd) != 0) throw std::runtime_error(temporary.string() + ": " + std::strerror(errno));
  });
}

std::string random_name_suffix() {
  std::random_device device;
  std::ostringstream text;
  text << std::hex << device() << device();
  return text.str().substr(0, 12);
}

namespace {

void rename_or_throw(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    throw std::runtime_error("cannot rename " + from.string() + " to " + to.string() + ": " + std::strerror(errno));
  }
}

}  // namespace

void move_folder_into_place(const std::filesystem::path& temporary, const std::filesystem::path& output) {
  std::filesystem::path displaced;
  std::error_code error;
  if (std::filesystem::exists(output, error)) {
    displaced = output;
    displaced += ".old-" + random_name_suffix();
    rename_or_throw(output, displaced);
  }
  try {
    rename_or_throw(temporary, output);
  } catch (...) {
    if (!displaced.empty()) std::rename(displaced.c_str(), output.c_str());
    throw;
  }
  const std::filesystem::path parent = output.parent_path();
  sync_path(parent.empty() ? std::filesystem::path(".") : parent, /*directory=*/true);
  if (!displaced.empty()) std::filesystem::remove_all(displaced, error);
}

}  // namespace dcomp::io
