// reference: Python re.match (a match must start at position 0, may end anywhere);
// RE2 re2/re2.h (RE2::Match with ANCHOR_START, RE2::Options)
#include "kernels/ct/name_pattern.hpp"

#include <map>
#include <memory>
#include <mutex>

#include <re2/re2.h>

namespace dcomp::ct {
namespace {

constexpr const char* kNamePatternPrefix = "re:";
constexpr size_t kQuotedPatternBytes = 80;
constexpr size_t kMaxCachedPatterns = 1024;

std::string quoted_pattern(const std::string& target) {
  if (target.size() <= kQuotedPatternBytes) return "\"" + target + "\"";
  return "\"" + target.substr(0, kQuotedPatternBytes) + "...\"";
}

std::unique_ptr<RE2> compile_pattern(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  return std::make_unique<RE2>(pattern, options);
}

// The problem with `target`, given its compiled pattern (null when too long to compile).
std::optional<std::string> pattern_problem_of(const std::string& target, const RE2* compiled) {
  const size_t length = target.size() - 3;
  if (length > kMaxNamePatternBytes) {
    return "pattern " + quoted_pattern(target) + " is " + std::to_string(length) +
           " bytes long, more than dcomp's limit of " + std::to_string(kMaxNamePatternBytes);
  }
  if (!compiled->ok()) {
    return "pattern " + quoted_pattern(target) + " is not accepted by RE2 (dcomp's pattern engine, which has no " +
           "backreferences or lookaround): " + compiled->error();
  }
  return std::nullopt;
}

// Compiled patterns by their text; a full cache is emptied (patterns come from a recipe
// or a config, so there are few).
class PatternCache {
 public:
  std::shared_ptr<const RE2> get(const std::string& pattern) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = cache_.find(pattern);
    if (found != cache_.end()) return found->second;
    if (cache_.size() >= kMaxCachedPatterns) cache_.clear();
    std::shared_ptr<const RE2> compiled = compile_pattern(pattern);
    cache_.emplace(pattern, compiled);
    return compiled;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const RE2>> cache_;
};

PatternCache& pattern_cache() {
  static PatternCache cache;
  return cache;
}

}  // namespace

bool is_name_pattern(const std::string& target) { return target.rfind(kNamePatternPrefix, 0) == 0; }

std::optional<std::string> name_pattern_problem(const std::string& target) {
  if (!is_name_pattern(target)) return std::nullopt;
  if (target.size() - 3 > kMaxNamePatternBytes) return pattern_problem_of(target, nullptr);
  return pattern_problem_of(target, pattern_cache().get(target.substr(3)).get());
}

void check_name_pattern(const std::string& target, const std::string& where) {
  if (const auto problem = name_pattern_problem(target)) throw std::invalid_argument(where + ": " + *problem);
}

bool name_pattern_matches(const std::string& target, const std::string& name) {
  if (target.size() - 3 > kMaxNamePatternBytes) throw std::invalid_argument(*pattern_problem_of(target, nullptr));
  const auto compiled = pattern_cache().get(target.substr(3));
  if (const auto problem = pattern_problem_of(target, compiled.get())) throw std::invalid_argument(*problem);
  return compiled->Match(name, 0, name.size(), RE2::ANCHOR_START, nullptr, 0);
}

}  // namespace dcomp::ct
