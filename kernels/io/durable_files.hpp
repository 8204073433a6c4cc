// Files that survive a crash: fsync of files and folders, and whole-file
// replacement by write-to-temporary + rename, so a reader sees the old or the
// new contents, never a mix.
// reference: POSIX fsync(2) and rename(2); the write-sync-rename pattern of
// SQLite's and git's lock files.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace dcomp::io {

/// fsync of a file or (directory = true) of a folder's entries; throws
/// std::runtime_error naming the path on failure.
void sync_path(const std::filesystem::path& path, bool directory);

/// Calls `write` with a new temporary path in the folder of `path`
/// (`.<name>.tmp-<random>`), then syncs that file, renames it onto `path` and syncs the
/// folder: `path` holds its old contents or the complete new ones, never a part. On any
/// failure the temporary file is removed and std::runtime_error names `path` and the reason.
void replace_file_with(const std::filesystem::path& path,
                       const std::function<void(const std::filesystem::path& temporary)>& write);

/// replace_file_with for a file of `contents` (ENOSPC and every other failure named).
void replace_file_durably(const std::filesystem::path& path, const std::string& contents);

/// 12 random hex digits, for the names of temporary and displaced folders.
std::string random_name_suffix();

/// Renames the complete folder `temporary` onto `output`. An existing `output` is first
/// renamed aside to `<output>.old-<random>` (and put back if the final rename fails), then
/// removed once the new folder is in place; the parent folder is synced. Throws
/// std::runtime_error naming the paths.
void move_folder_into_place(const std::filesystem::path& temporary, const std::filesystem::path& output);

}  // namespace dcomp::io
