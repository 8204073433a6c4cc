// JSON from files dcomp does not control is parsed within a stated depth and size, in
// time linear in its length: a hostile file is refused with its name and the limit.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>

#include "io_test_support.hpp"
#include "kernels/io/checkpoint_index.hpp"
#include "kernels/io/safetensors_header.hpp"
#include "kernels/json/bounded_json.hpp"

namespace dcomp::io {
namespace {

using ::testing::HasSubstr;
using testing::error_message_of;
using testing::TempDir;

std::string bounded_nested_arrays(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string bounded_limit_error(const std::string& text, const json_input::JsonLimits& limits = {}) {
  try {
    json_input::parse_bounded_json(text, "input.json", limits);
  } catch (const json_input::JsonLimitError& error) {
    return error.what();
  }
  return "";
}

TEST(BoundedJson, A100000DeepDocumentIsRefusedNamingTheLimit) {
  const std::string error = bounded_limit_error("{\"a\": " + bounded_nested_arrays(100000) + "}");
  EXPECT_THAT(error, HasSubstr("input.json"));
  EXPECT_THAT(error, HasSubstr("more than 64 levels deep"));
}

TEST(BoundedJson, DepthLimitCountsTheTopLevelAsOne) {
  EXPECT_EQ(bounded_limit_error(bounded_nested_arrays(json_input::kMaxJsonDepth)), "");
  EXPECT_THAT(bounded_limit_error(bounded_nested_arrays(json_input::kMaxJsonDepth + 1)), HasSubstr("64 levels"));
  // Brackets inside strings are text, not nesting.
  EXPECT_EQ(bounded_limit_error("{\"k\": \"" + std::string(1000, '[') + "\"}"), "");
}

TEST(BoundedJson, SizeLimitIsCheckedFirst) {
  EXPECT_THAT(bounded_limit_error("[" + std::string(2000, ' ') + "]", {1024, 64}), HasSubstr("more than dcomp's limit of 1 KiB"));
  std::istringstream stream(std::string(3000, ' '));
  EXPECT_THROW(json_input::read_bounded_text(stream, "big.json", 2048), json_input::JsonLimitError);
}

TEST(BoundedJson, ParsedValueEqualsNlohmannParse) {
  const std::string text = R"({"b": [1, 2.5, "x", null, true, {"c": []}], "a": {"d": -3}})";
  EXPECT_EQ(json_input::parse_bounded_json(text, "t"), nlohmann::json::parse(text));
  EXPECT_THROW(json_input::parse_bounded_json("{\"a\": }", "t"), nlohmann::json::parse_error);
}

TEST(BoundedJson, DeepShardIndexIsRefusedNamingTheFile) {
  TempDir dir;
  testing::write_bytes(dir / "model.safetensors.index.json", "{\"weight_map\": " + bounded_nested_arrays(100000) + "}");
  const std::string error = error_message_of([&] { detail::read_weight_map(dir / "model.safetensors.index.json"); });
  EXPECT_THAT(error, HasSubstr("model.safetensors.index.json"));
  EXPECT_THAT(error, HasSubstr("64 levels"));
}

TEST(BoundedJson, SafetensorsHeaderOf50000TensorsParsesInLinearTime) {
  constexpr int kTensors = 50000;
  std::string header = "{";
  for (int i = 0; i < kTensors; ++i) {
    if (i > 0) header += ",";
    header += "\"t" + std::to_string(i) + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[" +
              std::to_string(4 * i) + "," + std::to_string(4 * i + 4) + "]}";
  }
  header += "}";
  const std::string bytes = testing::safetensors_bytes(header, std::string(4 * kTensors, '\0'));
  const auto start = std::chrono::steady_clock::now();
  const auto parsed = detail::parse_safetensors_header(
      "many.safetensors", reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_EQ(parsed.tensors.size(), size_t{kTensors});
  EXPECT_EQ(parsed.tensors.back().end, uint64_t{4} * kTensors);
}

TEST(BoundedJson, SafetensorsHeaderStillRefusesARepeatedKeyAndDeepNesting) {
  const std::string repeated = testing::safetensors_bytes(
      R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
      std::string(4, '\0'));
  EXPECT_THAT(error_message_of([&] {
                detail::parse_safetensors_header("dup.safetensors", reinterpret_cast<const uint8_t*>(repeated.data()),
                                                 repeated.size());
              }),
              HasSubstr("header has the key 'a' more than once"));
  const std::string deep = testing::safetensors_bytes("{\"__metadata__\": " + bounded_nested_arrays(100000) + "}", "");
  EXPECT_THAT(error_message_of([&] {
                detail::parse_safetensors_header("deep.safetensors", reinterpret_cast<const uint8_t*>(deep.data()),
                                                 deep.size());
              }),
              HasSubstr("deep.safetensors: JSON nests"));
}

}  // namespace
}  // namespace dcomp::io
