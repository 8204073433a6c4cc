// Allocation failures told apart from other errors, and said in words: a bare
// "std::bad_alloc" or LibTorch's "[enforce fail at alloc_cpu.cpp:...]" names neither what was
// being done nor how much was asked for. The caller, which knows what it was doing, adds that.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>

namespace dcomp::platform {

struct AllocationFailure {
  std::optional<uint64_t> bytes;  // the size of the allocation that failed, when the allocator said
};

/// An allocation failure (std::bad_alloc; LibTorch's CPU allocator "can't allocate memory: you
/// tried to allocate N bytes"; its CUDA allocator "out of memory. Tried to allocate 2.00 GiB"),
/// or nullopt for any other error.
std::optional<AllocationFailure> as_allocation_failure(const std::exception& error);

/// "8000000000 bytes (7.45 GiB)".
std::string describe_bytes(uint64_t bytes);

/// This process's peak resident memory so far, in bytes (getrusage), 0 where unknown.
uint64_t peak_resident_bytes();

}  // namespace dcomp::platform
