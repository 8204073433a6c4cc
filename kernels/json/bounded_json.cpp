// reference: nlohmann-json include/nlohmann/detail/input/json_sax.hpp (the SAX events and
// json_sax_dom_parser, which builds the value that json::parse returns)
#include "kernels/json/bounded_json.hpp"

#include <unordered_set>

namespace dcomp::json_input {
namespace {

using nlohmann::json;

// Builds the value as json::parse does, counting the nesting level of each object and
// array, and stopping the parse at the first one past the limit (before it is built).
class DepthLimitedBuilder {
 public:
  DepthLimitedBuilder(json& root, size_t max_depth, bool track_duplicates)
      : builder_(root), max_depth_(max_depth), track_duplicates_(track_duplicates) {}

  bool too_deep() const { return too_deep_; }
  const std::string& duplicate() const { return duplicate_; }

  bool null() { return builder_.null(); }
  bool boolean(bool value) { return builder_.boolean(value); }
  bool number_integer(json::number_integer_t value) { return builder_.number_integer(value); }
  bool number_unsigned(json::number_unsigned_t value) { return builder_.number_unsigned(value); }
  bool number_float(json::number_float_t value, const json::string_t& text) {
    return builder_.number_float(value, text);
  }
  bool string(json::string_t& value) { return builder_.string(value); }
  bool binary(json::binary_t& value) { return builder_.binary(value); }
  bool start_object(std::size_t size) { return enter() && builder_.start_object(size); }
  bool key(json::string_t& value) {
    if (track_duplicates_ && depth_ == 1 && duplicate_.empty() && !top_level_keys_.insert(value).second) {
      duplicate_ = value;
    }
    return builder_.key(value);
  }
  bool end_object() {
    --depth_;
    return builder_.end_object();
  }
  bool start_array(std::size_t size) { return enter() && builder_.start_array(size); }
  bool end_array() {
    --depth_;
    return builder_.end_array();
  }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& token, const Exception& error) {
    return builder_.parse_error(position, token, error);  // throws `error`, as json::parse does
  }

 private:
  bool enter() {
    if (++depth_ > max_depth_) too_deep_ = true;
    return !too_deep_;
  }

  nlohmann::detail::json_sax_dom_parser<json> builder_;
  size_t max_depth_;
  bool track_duplicates_;
  size_t depth_ = 0;
  bool too_deep_ = false;
  std::unordered_set<std::string> top_level_keys_;
  std::string duplicate_;
};

}  // namespace

std::string byte_limit_text(uint64_t bytes) {
  if (bytes >= (uint64_t{1} << 20) && bytes % (uint64_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

json parse_bounded_json(std::string_view text, const std::string& source, const JsonLimits& limits,
                        std::string* duplicate_top_level_key) {
  if (text.size() > limits.max_bytes) {
    throw JsonLimitError(source + ": " + std::to_string(text.size()) + " bytes of JSON, more than dcomp's limit of " +
                         byte_limit_text(limits.max_bytes));
  }
  json root;
  DepthLimitedBuilder builder(root, limits.max_depth, duplicate_top_level_key != nullptr);
  const bool complete = json::sax_parse(text.begin(), text.end(), &builder);
  if (builder.too_deep()) {
    throw JsonLimitError(source + ": JSON nests objects and arrays more than " + std::to_string(limits.max_depth) +
                         " levels deep (dcomp's limit)");
  }
  if (!complete) throw JsonLimitError(source + ": the JSON parse stopped early");  // not reached: errors throw
  if (duplicate_top_level_key) *duplicate_top_level_key = builder.duplicate();
  return root;
}

std::string read_bounded_text(std::istream& stream, const std::string& source, uint64_t max_bytes) {
  std::string text;
  char buffer[1 << 16];
  while (stream) {
    stream.read(buffer, sizeof(buffer));
    text.append(buffer, static_cast<size_t>(stream.gcount()));
    if (text.size() > max_bytes) {
      throw JsonLimitError(source + ": larger than dcomp's limit of " + byte_limit_text(max_bytes) + " for this file");
    }
  }
  return text;
}

}  // namespace dcomp::json_input
