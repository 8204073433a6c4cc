#include "kernels/tokenizer/text_replace.hpp"

namespace dcomp::tok {

std::string replace_all(std::string_view text, std::string_view pattern, std::string_view replacement) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (true) {
    const size_t found = text.find(pattern, pos);
    if (found == std::string_view::npos) break;
    out.append(text.substr(pos, found - pos));
    out.append(replacement);
    pos = found + pattern.size();
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace dcomp::tok
