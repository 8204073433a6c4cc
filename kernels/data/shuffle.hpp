// A platform-independent shuffle: std::mt19937_64 is fully specified by the C++
// standard, but std::shuffle and std::uniform_int_distribution are not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace dcomp::data {

/// Uniform integer in [0, bound) (bound > 0) from `engine`, without modulo bias: draws
/// below 2^64 mod bound are rejected, so the accepted range is a multiple of bound.
uint64_t uniform_below(std::mt19937_64& engine, uint64_t bound);

/// The order in which `count` items end up after a Fisher-Yates shuffle seeded with
/// `seed`: result[k] is the original index of the item placed at position k.
std::vector<size_t> shuffled_order(size_t count, uint64_t seed);

/// shuffled_order(count, seed) when `shuffle`, else 0, 1, ..., count − 1.
std::vector<size_t> visiting_order(size_t count, uint64_t seed, bool shuffle);

}  // namespace dcomp::data
