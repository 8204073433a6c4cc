// reference: huggingface/tokenizers normalizers/{mod,prepend,replace,utils}.rs.
#include "kernels/tokenizer/normalizer.hpp"

#include <optional>

#include "kernels/tokenizer/growth_limit.hpp"
#include "kernels/tokenizer/text_replace.hpp"

namespace dcomp::tok {

Normalizer Normalizer::from_json(const nlohmann::json& node, const JsonContext& context) {
  Normalizer normalizer;
  normalizer.context_ = context.with_component("normalizer");
  append_steps(node, normalizer.context_, normalizer.steps_);
  return normalizer;
}

void Normalizer::append_steps(const nlohmann::json& node, const JsonContext& context, std::vector<Step>& steps) {
  const std::string type = component_type(node, context);
  const JsonContext typed = context.with_component(context.component + " '" + type + "'");
  if (type == "Sequence") {
    const nlohmann::json& children = require_field(node, "normalizers", typed);
    if (!children.is_array()) throw_tokenizer_error(typed, "\"normalizers\" must be a list");
    for (const nlohmann::json& child : children) append_steps(child, context, steps);
  } else if (type == "Prepend") {
    steps.push_back({Step::Kind::kPrepend, {}, require_string(node, "prepend", typed)});
  } else if (type == "Replace") {
    std::string pattern = pattern_string(require_field(node, "pattern", typed), typed);
    steps.push_back({Step::Kind::kReplace, std::move(pattern), require_string(node, "content", typed)});
  } else {
    throw_tokenizer_error(typed, "unsupported normalizer type (supported: Sequence, Prepend, Replace)");
  }
}

std::string Normalizer::apply(std::string text) const {
  const GrowthLimit limit(context_, text.size());
  for (const Step& step : steps_) {
    switch (step.kind) {
      case Step::Kind::kPrepend:
        if (!text.empty()) text.insert(0, step.content);  // an empty text stays empty
        break;
      case Step::Kind::kReplace: {
        std::optional<std::string> replaced = replace_all_within(text, step.pattern, step.content, limit.max_size());
        if (!replaced) limit.fail();
        text = std::move(*replaced);
        break;
      }
    }
    limit.check(text.size());
  }
  return text;
}

}  // namespace dcomp::tok
