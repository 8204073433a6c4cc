#include "kernels/tokenizer/text_replace.hpp"

#include <algorithm>

namespace dcomp::tok {

std::string replace_all(std::string_view text, std::string_view pattern, std::string_view replacement) {
  return *replace_all_within(text, pattern, replacement, std::string::npos);
}

std::optional<std::string> replace_all_within(std::string_view text, std::string_view pattern,
                                              std::string_view replacement, size_t max_size) {
  std::string out;
  out.reserve(std::min(text.size(), max_size));
  size_t pos = 0;
  while (true) {
    const size_t found = text.find(pattern, pos);
    if (found == std::string_view::npos) break;
    if (out.size() + (found - pos) + replacement.size() > max_size) return std::nullopt;
    out.append(text.substr(pos, found - pos));
    out.append(replacement);
    pos = found + pattern.size();
  }
  if (out.size() + (text.size() - pos) > max_size) return std::nullopt;
  out.append(text.substr(pos));
  return out;
}

}  // namespace dcomp::tok
