// The GPT-2 byte-to-character map used by byte-level BPE: every byte becomes one
// printable code point, so any byte string becomes a string of vocabulary characters.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dcomp::tok {

/// The code point standing for `byte`: bytes '!'..'~', U+00A1..U+00AC and U+00AE..U+00FF
/// stand for themselves; the other 68 bytes map, in increasing order, to U+0100..U+0143.
char32_t byte_level_char(unsigned char byte);

/// The byte that `cp` stands for, or nullopt when `cp` is not one of the 256 byte characters.
std::optional<unsigned char> byte_level_byte(char32_t cp);

/// `bytes` with every byte replaced by its character, as UTF-8.
std::string byte_level_encode(std::string_view bytes);

/// Appends to `out` the bytes that `token` (well-formed UTF-8) stands for; returns false,
/// appending nothing, when a character of `token` is not a byte character.
bool byte_level_decode_append(std::string_view token, std::string& out);

}  // namespace dcomp::tok
