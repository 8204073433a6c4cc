// reference: YAML 1.2.2 spec, sections 3.2.1.1 (mapping keys are unique), 5.2 (character
// encodings) and 7.1 (alias nodes)
#include "lifecycle/recipe_document.hpp"

#include <set>
#include <vector>

#include "kernels/ct/name_pattern.hpp"
#include "kernels/tokenizer/utf8.hpp"
#include "lifecycle/errors.hpp"
#include "lifecycle/modifier_args.hpp"

namespace dcomp::lifecycle {
namespace {

class DocumentCheck {
 public:
  explicit DocumentCheck(const std::string& source) : source_(source) {}

  // `where` is reported for problems with `node` itself: the key of a mapping value, or
  // the sequence holding an item (an alias node carries the position of its anchor).
  void visit(const YAML::Node& node, const YAML::Node& where) {
    for (const YAML::Node& ancestor : path_) {
      if (ancestor.is(node)) fail(where, "a YAML alias refers to a node that contains it");
    }
    if (++visited_ > kMaxRecipeNodes) {
      fail(where, "the recipe expands (through YAML aliases) to more than " + std::to_string(kMaxRecipeNodes) + " nodes");
    }
    if (path_.size() >= kMaxRecipeDepth) {
      fail(where, "the recipe nests more than " + std::to_string(kMaxRecipeDepth) + " levels deep");
    }
    if (node.IsScalar()) {
      check_scalar(node);
      check_pattern(node);
    }
    if (!node.IsMap() && !node.IsSequence()) return;
    path_.push_back(node);
    if (node.IsSequence()) {
      for (const YAML::Node& item : node) visit(item, node);
    } else {
      std::set<std::string> keys;
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (it->first.IsMap() || it->first.IsSequence()) fail(it->first, "a mapping key must be a string");
        if (it->first.IsScalar()) check_scalar(it->first);
        const std::string key = it->first.as<std::string>();
        if (!keys.insert(key).second) fail(it->first, "key '" + key + "' appears more than once in the same mapping");
        fields_.push_back(key);
        visit(it->second, it->first);
        fields_.pop_back();
      }
    }
    path_.pop_back();
  }

 private:
  // yaml-cpp passes ill-formed UTF-8 through, and its emitter would then write other
  // text than was read.
  void check_scalar(const YAML::Node& scalar) const {
    if (tok::find_invalid_utf8(scalar.Scalar()) != std::string::npos) fail(scalar, "text is not valid UTF-8");
  }

  // A "re:" value (a target, an ignore entry, a mapping's layer) must be a pattern dcomp
  // can match in linear time; checked here, before anything runs, with its line.
  void check_pattern(const YAML::Node& scalar) const {
    const auto problem = ct::name_pattern_problem(scalar.Scalar());
    if (!problem) return;
    fail(scalar, (fields_.empty() ? std::string("a value") : "'" + fields_.back() + "'") + ": " + *problem);
  }

  [[noreturn]] void fail(const YAML::Node& where, const std::string& problem) const {
    throw RecipeError(yaml_location(source_, where) + ": " + problem);
  }

  const std::string& source_;
  std::vector<YAML::Node> path_;  // the containers above the node being visited
  std::vector<std::string> fields_;  // the mapping keys above the node being visited
  size_t visited_ = 0;
};

}  // namespace

void check_recipe_document(const YAML::Node& root, const std::string& source) {
  DocumentCheck(source).visit(root, root);
}

}  // namespace dcomp::lifecycle
