// reference: RFC 3629 (UTF-8), Table 3-7 "Well-Formed UTF-8 Byte Sequences" and
// section 3.9 "U+FFFD Substitution of Maximal Subparts" of the Unicode Standard 15.0.
#include "kernels/tokenizer/utf8.hpp"

namespace dcomp::tok {
namespace {

// Length of the well-formed prefix of a sequence starting at text[pos], following
// Table 3-7. Returns the full length (1..4) for a complete valid sequence, or
// 0 plus `maximal_subpart` = number of bytes forming the maximal ill-formed subpart.
struct SequenceCheck {
  size_t valid_length = 0;     // > 0 when the sequence is complete and valid
  size_t maximal_subpart = 0;  // > 0 when it is not
};

SequenceCheck check_sequence(std::string_view text, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) return {1, 0};
  size_t length = 0;
  unsigned char second_low = 0x80, second_high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_low = 0xA0;   // no overlong forms
    if (lead == 0xED) second_high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_low = 0x90;   // no overlong forms
    if (lead == 0xF4) second_high = 0x8F;  // nothing above U+10FFFF
  } else {
    return {0, 1};  // C0, C1, F5..FF and stray continuation bytes
  }
  for (size_t i = 1; i < length; ++i) {
    if (pos + i >= text.size()) return {0, i};
    const unsigned char low = i == 1 ? second_low : 0x80;
    const unsigned char high = i == 1 ? second_high : 0xBF;
    if (byte(pos + i) < low || byte(pos + i) > high) return {0, i};
  }
  return {length, 0};
}

}  // namespace

size_t find_invalid_utf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    const SequenceCheck check = check_sequence(text, pos);
    if (check.valid_length == 0) return pos;
    pos += check.valid_length;
  }
  return std::string_view::npos;
}

size_t utf8_sequence_length(std::string_view text, size_t pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

char32_t next_code_point(std::string_view text, size_t& pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  const size_t length = utf8_sequence_length(text, pos);
  char32_t cp = length == 1 ? lead : length == 2 ? (lead & 0x1F) : length == 3 ? (lead & 0x0F) : (lead & 0x07);
  for (size_t i = 1; i < length; ++i) cp = (cp << 6) | (static_cast<unsigned char>(text[pos + i]) & 0x3F);
  pos += length;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string utf8_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    const SequenceCheck check = check_sequence(bytes, pos);
    if (check.valid_length > 0) {
      out.append(bytes.substr(pos, check.valid_length));
      pos += check.valid_length;
    } else {
      append_utf8(out, kReplacementCharacter);
      pos += check.maximal_subpart;
    }
  }
  return out;
}

}  // namespace dcomp::tok
