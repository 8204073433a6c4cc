#include "kernels/tokenizer/growth_limit.hpp"

#include <string>

namespace dcomp::tok {

GrowthLimit::GrowthLimit(const JsonContext& context, size_t input_size)
    : context_(context), input_size_(input_size), max_size_(kMaxGrowthFactor * input_size + kGrowthSlackBytes) {}

void GrowthLimit::fail() const {
  throw_tokenizer_error(context_, "grows a text of " + std::to_string(input_size_) + " bytes past " +
                                      std::to_string(max_size_) + " bytes (" + std::to_string(kMaxGrowthFactor) +
                                      " times its size plus " + std::to_string(kGrowthSlackBytes) +
                                      "): its steps multiply the text");
}

}  // namespace dcomp::tok
