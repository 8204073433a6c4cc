// reference: bytes_to_unicode() in openai/gpt-2 src/encoder.py; ByteLevel in
// huggingface/tokenizers pre_tokenizers/byte_level.rs.
#include "kernels/tokenizer/byte_level.hpp"

#include <array>

#include "kernels/tokenizer/utf8.hpp"

namespace dcomp::tok {
namespace {

bool stands_for_itself(unsigned byte) {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE && byte <= 0xFF);
}

struct ByteLevelTables {
  std::array<char32_t, 256> char_of_byte{};
  std::array<std::string, 256> utf8_of_byte;
  std::array<int, 0x144> byte_of_char{};  // every byte character is below U+0144; -1 = none

  ByteLevelTables() {
    byte_of_char.fill(-1);
    char32_t next_extra = 0x100;
    for (unsigned byte = 0; byte < 256; ++byte) {
      char_of_byte[byte] = stands_for_itself(byte) ? static_cast<char32_t>(byte) : next_extra++;
      byte_of_char[char_of_byte[byte]] = static_cast<int>(byte);
      append_utf8(utf8_of_byte[byte], char_of_byte[byte]);
    }
  }
};

const ByteLevelTables& tables() {
  static const ByteLevelTables instance;
  return instance;
}

}  // namespace

char32_t byte_level_char(unsigned char byte) { return tables().char_of_byte[byte]; }

std::optional<unsigned char> byte_level_byte(char32_t cp) {
  if (cp >= tables().byte_of_char.size() || tables().byte_of_char[cp] < 0) return std::nullopt;
  return static_cast<unsigned char>(tables().byte_of_char[cp]);
}

std::string byte_level_encode(std::string_view bytes) {
  const ByteLevelTables& t = tables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char byte : bytes) out += t.utf8_of_byte[static_cast<unsigned char>(byte)];
  return out;
}

bool byte_level_decode_append(std::string_view token, std::string& out) {
  const size_t original_size = out.size();
  size_t pos = 0;
  while (pos < token.size()) {
    const std::optional<unsigned char> byte = byte_level_byte(next_code_point(token, pos));
    if (!byte) {
      out.resize(original_size);
      return false;
    }
    out.push_back(static_cast<char>(*byte));
  }
  return true;
}

}  // namespace dcomp::tok
