// Each malformed safetensors file is rejected with a SafetensorsError that names the
// file and the problem. The files are assembled by hand.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kernels/io/safetensors.hpp"
#include "tests/io/io_test_support.hpp"

namespace dcomp::io {
namespace {

using ::testing::HasSubstr;
using testing::error_message_of;
using testing::safetensors_bytes;
using testing::TempDir;
using testing::u64_le;
using testing::write_bytes;

class SafetensorsCorrupt : public ::testing::Test {
 protected:
  // Writes `bytes` to bad.safetensors and returns the message of opening it.
  std::string open_error(const std::string& bytes) {
    write_bytes(path(), bytes);
    return error_message_of([&] { SafetensorsFile::open(path()); });
  }
  std::filesystem::path path() const { return dir_ / "bad.safetensors"; }

 private:
  TempDir dir_;
};

TEST_F(SafetensorsCorrupt, FileShorterThanTheLengthField) {
  const std::string message = open_error(std::string("\x10\x00\x00\x00\x00", 5));
  EXPECT_THAT(message, HasSubstr(path().string() + ": "));
  EXPECT_THAT(message, HasSubstr("file is 5 bytes, too short for the 8-byte header length"));
}

TEST_F(SafetensorsCorrupt, EmptyFile) {
  EXPECT_THAT(open_error(""), HasSubstr("file is 0 bytes"));
}

TEST_F(SafetensorsCorrupt, TruncatedDataArea) {
  // The header is complete, but only 8 of the 16 data bytes are present.
  const std::string header = R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
  const std::string message = open_error(safetensors_bytes(header, std::string(8, '\0')));
  EXPECT_THAT(message, HasSubstr(path().string() + ": "));
  EXPECT_THAT(message, HasSubstr("tensor 'w' data_offsets [0, 16] run past the end of the data area (8 bytes)"));
}

TEST_F(SafetensorsCorrupt, TruncatedHeader) {
  const std::string header = R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
  const std::string bytes = safetensors_bytes(header, std::string(16, '\0'));
  const std::string message = open_error(bytes.substr(0, 30));
  EXPECT_THAT(message, HasSubstr("header length " + std::to_string(header.size()) + " runs past the end of the file (30 bytes"));
}

TEST_F(SafetensorsCorrupt, HeaderLengthPastTheEndOfTheFile) {
  const std::string message = open_error(u64_le(1000) + "{}");
  EXPECT_THAT(message, HasSubstr(path().string() + ": "));
  EXPECT_THAT(message, HasSubstr("header length 1000 runs past the end of the file (10 bytes"));
}

TEST_F(SafetensorsCorrupt, HeaderLengthAboveTheLimit) {
  const std::string message = open_error(u64_le(0xFFFFFFFFFFFFFFF0ull) + "{}");
  EXPECT_THAT(message, HasSubstr("header length 18446744073709551600 exceeds the limit of 100000000 bytes"));
}

TEST_F(SafetensorsCorrupt, OverlappingRanges) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})";
  const std::string message = open_error(safetensors_bytes(header, std::string(16, '\0')));
  EXPECT_THAT(message, HasSubstr(path().string() + ": "));
  EXPECT_THAT(message, HasSubstr("tensor 'b' data_offsets [8, 16] overlap tensor 'a' data_offsets [0, 12]"));
}

TEST_F(SafetensorsCorrupt, GapBetweenRanges) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
  const std::string message = open_error(safetensors_bytes(header, std::string(12, '\0')));
  EXPECT_THAT(message, HasSubstr("bytes [4, 8) of the data area belong to no tensor (a gap before tensor 'b')"));
}

TEST_F(SafetensorsCorrupt, BytesAfterTheLastTensor) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  const std::string message = open_error(safetensors_bytes(header, std::string(6, '\0')));
  EXPECT_THAT(message, HasSubstr("bytes [4, 6) at the end of the data area belong to no tensor"));
}

TEST_F(SafetensorsCorrupt, ShapeAndDTypeDoNotMatchTheBytes) {
  const std::string header = R"({"x":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})";
  const std::string message = open_error(safetensors_bytes(header, std::string(12, '\0')));
  EXPECT_THAT(message, HasSubstr(path().string() + ": "));
  EXPECT_THAT(message, HasSubstr("tensor 'x' data_offsets [0, 12] are 12 bytes but shape [2, 2] of F32 needs 16"));
}

TEST_F(SafetensorsCorrupt, DTypeSizeDoesNotMatchTheBytes) {
  // Right element count for 1-byte data, but BF16 needs 2 bytes each.
  const std::string header = R"({"x":{"dtype":"BF16","shape":[4],"data_offsets":[0,4]}})";
  EXPECT_THAT(open_error(safetensors_bytes(header, std::string(4, '\0'))),
              HasSubstr("tensor 'x' data_offsets [0, 4] are 4 bytes but shape [4] of BF16 needs 8"));
}

TEST_F(SafetensorsCorrupt, ShapeWhoseByteSizeOverflows) {
  const std::string header =
      R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})";
  EXPECT_THAT(open_error(safetensors_bytes(header, std::string(4, '\0'))), HasSubstr("overflows 64 bits"));
}

TEST_F(SafetensorsCorrupt, NegativeDimension) {
  const std::string header = R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})";
  EXPECT_THAT(open_error(safetensors_bytes(header, std::string(4, '\0'))),
              HasSubstr("tensor 'x' has shape [-1] whose dimensions are not all non-negative integers"));
}

TEST_F(SafetensorsCorrupt, OffsetsThatEndBeforeTheyBegin) {
  const std::string header = R"({"x":{"dtype":"U8","shape":[4],"data_offsets":[4,0]}})";
  EXPECT_THAT(open_error(safetensors_bytes(header, std::string(4, '\0'))),
              HasSubstr("tensor 'x' data_offsets [4, 0] end before they begin"));
}

TEST_F(SafetensorsCorrupt, MissingDataOffsets) {
  const std::string header = R"({"x":{"dtype":"U8","shape":[4]}})";
  EXPECT_THAT(open_error(safetensors_bytes(header, std::string(4, '\0'))),
              HasSubstr("tensor 'x' has no 'data_offsets' [begin, end]"));
}

TEST_F(SafetensorsCorrupt, UnknownDType) {
  const std::string header = R"({"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})";
  const std::string message = open_error(safetensors_bytes(header, std::string(8, '\0')));
  EXPECT_THAT(message, HasSubstr(path().string() + ": "));
  EXPECT_THAT(message, HasSubstr("tensor 'x' has an unknown dtype 'F64'"));
}

TEST_F(SafetensorsCorrupt, BadJson) {
  const std::string header = R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})";  // one '}' short
  const std::string message = open_error(safetensors_bytes(header, std::string(4, '\0')));
  EXPECT_THAT(message, HasSubstr(path().string() + ": "));
  EXPECT_THAT(message, HasSubstr("header is not valid JSON"));
}

TEST_F(SafetensorsCorrupt, HeaderThatIsNotAnObject) {
  EXPECT_THAT(open_error(safetensors_bytes("[1, 2]  ", "")), HasSubstr("header is a JSON array, not an object"));
}

TEST_F(SafetensorsCorrupt, DuplicateTensorName) {
  const std::string header = R"({"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                             R"("x":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})";
  EXPECT_THAT(open_error(safetensors_bytes(header, std::string(2, '\0'))),
              HasSubstr("header has the key 'x' more than once"));
}

TEST_F(SafetensorsCorrupt, MetadataValueThatIsNotAString) {
  const std::string header = R"({"__metadata__":{"format":"pt","step":3}})";
  EXPECT_THAT(open_error(safetensors_bytes(header, "")),
              HasSubstr("__metadata__ value of 'step' is a JSON number, not a string"));
}

TEST_F(SafetensorsCorrupt, MissingFile) {
  const std::string message = error_message_of([&] { SafetensorsFile::open(path()); });
  EXPECT_THAT(message, HasSubstr(path().string() + ": cannot open"));
}

TEST_F(SafetensorsCorrupt, AbsentTensorName) {
  write_bytes(path(), safetensors_bytes(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x"));
  const auto file = SafetensorsFile::open(path());
  EXPECT_THAT(error_message_of([&] { file->tensor("b"); }), HasSubstr(path().string() + ": no tensor named 'b'"));
}

}  // namespace
}  // namespace dcomp::io
