// UTF-8 decoding and encoding for the tokenizer: validation with a byte offset
// in the error, code point iteration over text already validated, and a lossy
// conversion that replaces ill-formed sequences with U+FFFD.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dcomp::tok {

/// U+FFFD REPLACEMENT CHARACTER.
inline constexpr char32_t kReplacementCharacter = 0xFFFD;

/// Byte offset of the first ill-formed UTF-8 sequence in `text`, or npos when the text is well formed.
/// Well formed means RFC 3629: shortest form, no surrogates, nothing above U+10FFFF.
size_t find_invalid_utf8(std::string_view text);

/// Length in bytes of the UTF-8 sequence starting at `text[pos]`, for text that is well formed.
size_t utf8_sequence_length(std::string_view text, size_t pos);

/// Decodes the code point at `text[pos]` and advances `pos` past it; the text must be well formed.
char32_t next_code_point(std::string_view text, size_t& pos);

/// Appends the UTF-8 encoding of `cp` (at most U+10FFFF, not a surrogate).
void append_utf8(std::string& out, char32_t cp);

/// `bytes` as well-formed UTF-8: every maximal ill-formed subpart becomes one U+FFFD
/// (the "substitution of maximal subparts" practice of the Unicode Standard, section 3.9).
std::string utf8_lossy(std::string_view bytes);

}  // namespace dcomp::tok
