// Literal find-and-replace on UTF-8 text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dcomp::tok {

/// `text` with every non-overlapping occurrence of `pattern` (non-empty), scanned left
/// to right, replaced by `replacement`. Byte matching is exact for well-formed UTF-8
/// because a UTF-8 pattern can only match at code point boundaries.
std::string replace_all(std::string_view text, std::string_view pattern, std::string_view replacement);

/// replace_all, or nullopt as soon as the result would be longer than `max_size` bytes.
std::optional<std::string> replace_all_within(std::string_view text, std::string_view pattern,
                                              std::string_view replacement, size_t max_size);

}  // namespace dcomp::tok
