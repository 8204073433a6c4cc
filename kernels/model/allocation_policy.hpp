// How glibc's malloc treats the large blocks tensors live in, per kind of run.
//
// A streamed run (oneshot: one layer's weights at a time) wants freed layer-sized blocks
// back in the system, or its resident memory creeps up layer after layer; within a layer
// it reuses its activation blocks like eval, and trims the heaps between layers. A run that
// holds the whole model (eval, generate) wants the opposite: its activations (a window's
// hidden states, scores and MLP products, a few MB to tens of MB each) are freed and
// allocated again in every layer, and each fresh mapping of them costs one page fault per
// 4 KiB (on SmolLM2-135M, 3.7 million faults and a third of eval's time).
// reference: glibc malloc(3), mallopt(3) (M_MMAP_THRESHOLD at most 32 MiB on 64-bit
// systems, M_TRIM_THRESHOLD).
#pragma once

namespace dcomp::model {

/// Blocks of 1 MiB or more get their own mappings and return to the system when freed.
void release_large_blocks_when_freed();

/// Blocks up to 32 MiB come from malloc's heap and stay there for reuse (up to 1 GiB of
/// free heap is kept): for runs whose working set does not change from layer to layer,
/// and for a streamed run that calls return_free_heap_to_system after each layer.
void keep_freed_blocks_for_reuse();

/// Gives the free memory of every malloc heap back to the system (malloc_trim): a
/// streamed run calls it once a layer is done, so that the blocks reused within one
/// layer do not accumulate across layers.
void return_free_heap_to_system();

}  // namespace dcomp::model
