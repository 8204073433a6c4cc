// reference: Knuth, TAOCP vol. 2, 3.4.2 Algorithm P (Fisher-Yates shuffle); the rejection
// method for unbiased bounded integers as in O'Neill, "Efficiently Generating a Number in
// a Range" (2018), "Bitmask-free debiased modulo".
#include "kernels/data/shuffle.hpp"

#include <numeric>
#include <utility>

namespace dcomp::data {

uint64_t uniform_below(std::mt19937_64& engine, uint64_t bound) {
  // 2^64 mod bound, computed in 64-bit arithmetic as (2^64 - bound) mod bound.
  const uint64_t threshold = (0 - bound) % bound;
  while (true) {
    const uint64_t draw = engine();
    if (draw >= threshold) return draw % bound;
  }
}

std::vector<size_t> shuffled_order(size_t count, uint64_t seed) {
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937_64 engine(seed);
  for (size_t i = count; i > 1; --i) {
    const auto j = static_cast<size_t>(uniform_below(engine, i));  // position in [0, i - 1]
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

std::vector<size_t> visiting_order(size_t count, uint64_t seed, bool shuffle) {
  if (shuffle) return shuffled_order(count, seed);
  std::vector<size_t> order(count);
  for (size_t i = 0; i < count; ++i) order[i] = i;
  return order;
}

}  // namespace dcomp::data
