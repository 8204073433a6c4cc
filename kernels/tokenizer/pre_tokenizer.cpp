// reference: huggingface/tokenizers pre_tokenizers/{metaspace,byte_level,split,digits,sequence}.rs
// and tokenizer/normalizer.rs (SplitDelimiterBehavior).
#include "kernels/tokenizer/pre_tokenizer.hpp"

#include <algorithm>

#include "kernels/tokenizer/byte_level.hpp"
#include "kernels/tokenizer/growth_limit.hpp"
#include "kernels/tokenizer/text_replace.hpp"
#include "kernels/tokenizer/unicode_categories.hpp"
#include "kernels/tokenizer/utf8.hpp"

namespace dcomp::tok {
namespace {

// A stretch of the piece: a pattern match or the text between matches.
struct Segment {
  size_t begin;
  size_t end;
  bool is_match;
};

std::vector<ByteSpan> literal_matches(const std::string& text, const std::string& literal) {
  std::vector<ByteSpan> matches;
  for (size_t pos = text.find(literal); pos != std::string::npos; pos = text.find(literal, pos + literal.size())) {
    matches.emplace_back(pos, pos + literal.size());
  }
  return matches;
}

// Covers [0, size) with the matches and the gaps between them.
std::vector<Segment> segments_of(const std::vector<ByteSpan>& matches, size_t size, bool invert) {
  std::vector<Segment> segments;
  size_t pos = 0;
  for (const auto& [begin, end] : matches) {
    if (begin > pos) segments.push_back({pos, begin, invert});
    segments.push_back({begin, end, !invert});
    pos = end;
  }
  if (pos < size) segments.push_back({pos, size, invert});
  return segments;
}

// Each character of general category N (Rust's char::is_numeric, what the Digits
// pre-tokenizer splits on) as one match.
std::vector<ByteSpan> number_characters(const std::string& text) {
  std::vector<ByteSpan> matches;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t begin = pos;
    const char32_t cp = next_code_point(text, pos);
    if (is_number(cp)) matches.emplace_back(begin, pos);
  }
  return matches;
}

// Delimiter::kRemoved: the text between matches, each stretch one span.
std::vector<ByteSpan> spans_without_matches(const std::vector<Segment>& segments) {
  std::vector<ByteSpan> spans;
  for (const Segment& s : segments) {
    if (!s.is_match) spans.emplace_back(s.begin, s.end);
  }
  return spans;
}

// Delimiter::kIsolated: every match and every stretch between matches its own span.
std::vector<ByteSpan> span_per_segment(const std::vector<Segment>& segments) {
  std::vector<ByteSpan> spans;
  for (const Segment& s : segments) spans.emplace_back(s.begin, s.end);
  return spans;
}

// Delimiter::kMergedWithPrevious: each match joined to the span before it.
std::vector<ByteSpan> spans_merging_matches_into_previous(const std::vector<Segment>& segments) {
  std::vector<ByteSpan> spans;
  bool previous_match = false;
  for (const Segment& s : segments) {
    if (s.is_match && !previous_match && !spans.empty()) spans.back().second = s.end;
    else spans.emplace_back(s.begin, s.end);
    previous_match = s.is_match;
  }
  return spans;
}

// Delimiter::kMergedWithNext: each match joined to the span after it.
std::vector<ByteSpan> spans_merging_matches_into_next(const std::vector<Segment>& segments) {
  std::vector<ByteSpan> spans;
  bool following_match = false;  // walking right to left
  for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
    if (it->is_match && !following_match && !spans.empty()) spans.back().first = it->begin;
    else spans.emplace_back(it->begin, it->end);
    following_match = it->is_match;
  }
  std::reverse(spans.begin(), spans.end());
  return spans;
}

// Delimiter::kContiguous: each run of adjacent matches one span, the text between them another.
std::vector<ByteSpan> spans_merging_contiguous_runs(const std::vector<Segment>& segments) {
  std::vector<ByteSpan> spans;
  bool previous_match = false;
  for (const Segment& s : segments) {
    if (s.is_match == previous_match && !spans.empty()) spans.back().second = s.end;
    else spans.emplace_back(s.begin, s.end);
    previous_match = s.is_match;
  }
  return spans;
}

}  // namespace

PreTokenizer PreTokenizer::from_json(const nlohmann::json& node, const JsonContext& context) {
  PreTokenizer pre_tokenizer;
  pre_tokenizer.context_ = context.with_component("pre_tokenizer");
  append_steps(node, pre_tokenizer.context_, pre_tokenizer.steps_);
  return pre_tokenizer;
}

void PreTokenizer::append_steps(const nlohmann::json& node, const JsonContext& context, std::vector<Step>& steps) {
  const std::string type = component_type(node, context);
  const JsonContext typed = context.with_component(context.component + " '" + type + "'");
  Step step;
  if (type == "Sequence") {
    const nlohmann::json& children = require_field(node, "pretokenizers", typed);
    if (!children.is_array()) throw_tokenizer_error(typed, "\"pretokenizers\" must be a list");
    for (const nlohmann::json& child : children) append_steps(child, context, steps);
    return;
  }
  if (type == "Metaspace") {
    step.kind = Step::Kind::kMetaspace;
    append_utf8(step.replacement, node.contains("replacement") ? require_single_code_point(node, "replacement", typed) : U'\u2581');
    if (const auto scheme = node.find("prepend_scheme"); scheme != node.end() && !scheme->is_null()) {
      const std::string name = scheme->is_string() ? scheme->get<std::string>() : scheme->dump();
      if (name == "always") step.prepend = Prepend::kAlways;
      else if (name == "first") step.prepend = Prepend::kFirst;
      else if (name == "never") step.prepend = Prepend::kNever;
      else throw_tokenizer_error(typed, "unknown prepend_scheme '" + name + "' (expected always, first or never)");
    } else {
      step.prepend = optional_bool(node, "add_prefix_space", true, typed) ? Prepend::kAlways : Prepend::kNever;
    }
    step.split_on_replacement = optional_bool(node, "split", true, typed);
  } else if (type == "ByteLevel") {
    step.kind = Step::Kind::kByteLevel;
    step.add_prefix_space = optional_bool(node, "add_prefix_space", true, typed);
    step.use_regex = optional_bool(node, "use_regex", true, typed);
    if (step.use_regex) step.regex = SplitPattern::gpt2();
  } else if (type == "Split") {
    step.kind = Step::Kind::kSplit;
    std::string regex;
    step.literal = pattern_string(require_field(node, "pattern", typed), typed, &regex);
    if (step.literal.empty()) {
      step.regex = SplitPattern::recognise(regex);
      if (!step.regex) {
        throw_tokenizer_error(typed, "unsupported split regex \"" + regex +
                                         "\" (known: the GPT-2, Llama-3 and Qwen2 byte-level patterns)");
      }
    }
    const std::string behavior = require_string(node, "behavior", typed);
    if (behavior == "Removed") step.behavior = Delimiter::kRemoved;
    else if (behavior == "Isolated") step.behavior = Delimiter::kIsolated;
    else if (behavior == "MergedWithPrevious") step.behavior = Delimiter::kMergedWithPrevious;
    else if (behavior == "MergedWithNext") step.behavior = Delimiter::kMergedWithNext;
    else if (behavior == "Contiguous") step.behavior = Delimiter::kContiguous;
    else throw_tokenizer_error(typed, "unknown split behavior '" + behavior + "'");
    step.invert = optional_bool(node, "invert", false, typed);
  } else if (type == "Digits") {
    step.kind = Step::Kind::kDigits;
    step.individual_digits = optional_bool(node, "individual_digits", false, typed);
  } else {
    throw_tokenizer_error(typed,
                          "unsupported pre-tokenizer type (supported: Sequence, Metaspace, ByteLevel, Split, Digits)");
  }
  steps.push_back(std::move(step));
}

std::vector<PreToken> PreTokenizer::split(PreToken piece) const {
  // One step grows the text at most fourfold (Metaspace), so checking after each step
  // bounds the memory used.
  const GrowthLimit limit(context_, piece.text.size());
  std::vector<PreToken> pieces;
  pieces.push_back(std::move(piece));
  for (const Step& step : steps_) {
    std::vector<PreToken> next;
    next.reserve(pieces.size());
    for (PreToken& current : pieces) apply_step(step, std::move(current), next);
    size_t total = 0;
    for (const PreToken& word : next) total += word.text.size();
    limit.check(total);
    pieces = std::move(next);
  }
  return pieces;
}

void PreTokenizer::apply_step(const Step& step, PreToken piece, std::vector<PreToken>& out) {
  std::string& text = piece.text;
  std::vector<ByteSpan> matches;
  Delimiter behavior = Delimiter::kIsolated;
  bool invert = false;
  switch (step.kind) {
    case Step::Kind::kMetaspace: {
      text = replace_all(text, " ", step.replacement);
      const bool starts_with_replacement = text.compare(0, step.replacement.size(), step.replacement) == 0;
      const bool prepend = step.prepend == Prepend::kAlways || (step.prepend == Prepend::kFirst && piece.at_input_start);
      if (prepend && !starts_with_replacement) text.insert(0, step.replacement);
      if (!step.split_on_replacement) {
        if (!text.empty()) out.push_back(std::move(piece));
        return;
      }
      matches = literal_matches(text, step.replacement);
      behavior = Delimiter::kMergedWithNext;
      break;
    }
    case Step::Kind::kByteLevel: {
      if (step.add_prefix_space && text.compare(0, 1, " ") != 0) text.insert(0, " ");
      if (!step.use_regex) {
        if (!text.empty()) out.push_back({byte_level_encode(text), piece.at_input_start});
        return;
      }
      for (const auto& [begin, end] : step.regex->find_matches(text)) {
        out.push_back({byte_level_encode(std::string_view(text).substr(begin, end - begin)), piece.at_input_start && begin == 0});
      }
      return;  // the GPT-2 pattern covers every character, so no text lies between matches
    }
    case Step::Kind::kSplit:
      matches = step.regex ? step.regex->find_matches(text) : literal_matches(text, step.literal);
      behavior = step.behavior;
      invert = step.invert;
      break;
    case Step::Kind::kDigits:
      // Every number character its own piece, or each run of them one piece.
      matches = number_characters(text);
      behavior = step.individual_digits ? Delimiter::kIsolated : Delimiter::kContiguous;
      break;
  }

  // Group the segments into pieces according to the delimiter behavior.
  const std::vector<Segment> segments = segments_of(matches, text.size(), invert);
  std::vector<ByteSpan> spans;
  switch (behavior) {
    case Delimiter::kRemoved:
      spans = spans_without_matches(segments);
      break;
    case Delimiter::kIsolated:
      spans = span_per_segment(segments);
      break;
    case Delimiter::kMergedWithPrevious:
      spans = spans_merging_matches_into_previous(segments);
      break;
    case Delimiter::kMergedWithNext:
      spans = spans_merging_matches_into_next(segments);
      break;
    case Delimiter::kContiguous:
      spans = spans_merging_contiguous_runs(segments);
      break;
  }
  for (const auto& [begin, end] : spans) {
    if (end > begin) out.push_back({text.substr(begin, end - begin), piece.at_input_start && begin == 0});
  }
}

}  // namespace dcomp::tok
