#include "kernels/model/allocation_policy.hpp"

#include <malloc.h>

namespace dcomp::model {

void release_large_blocks_when_freed() { mallopt(M_MMAP_THRESHOLD, 1 << 20); }

void keep_freed_blocks_for_reuse() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

void return_free_heap_to_system() { malloc_trim(0); }

}  // namespace dcomp::model
