// Unicode character classes used by the pre-tokenizer split patterns:
// \p{L} (letters), \p{N} (numbers) and \s (white space).
#pragma once

namespace dcomp::tok {

/// General category L (Lu, Ll, Lt, Lm, Lo) of Unicode 14.0, for every code point.
bool is_letter(char32_t cp);

/// General category N (Nd, Nl, No) of Unicode 14.0, for every code point.
bool is_number(char32_t cp);

/// The White_Space property (what `\s` matches in a Unicode regex): U+0009..U+000D,
/// U+0020, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
bool is_whitespace(char32_t cp);

}  // namespace dcomp::tok
