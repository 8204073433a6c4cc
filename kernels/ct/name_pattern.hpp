// The "re:" patterns of recipes and checkpoints (targets, ignore lists, mappings),
// matched as Python's re.match does (llm-compressor and compressed-tensors): anchored
// at the start of the module name, not at its end.
//
// The patterns come from files dcomp does not control, so they run on RE2, whose
// matching time is linear in the name (no backtracking: "(a+)+$" cannot hang) and
// whose parser does not recurse on nesting. RE2 has no backreferences or lookaround;
// a pattern using them is refused with the reason, as is one longer than
// kMaxNamePatternBytes.
//
// reference: Python re.match; RE2 syntax (github.com/google/re2/wiki/Syntax)
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>

namespace dcomp::ct {

/// The longest pattern accepted (after "re:"); real targets are under 100 bytes.
inline constexpr size_t kMaxNamePatternBytes = 4096;

/// True for a target written "re:<pattern>".
bool is_name_pattern(const std::string& target);

/// Why `target` ("re:<pattern>") cannot be matched: too long, or a syntax RE2 refuses
/// (with RE2's reason); nullopt when it compiles. The text quotes the pattern (cut to
/// its first 80 bytes when longer).
std::optional<std::string> name_pattern_problem(const std::string& target);

/// Throws std::invalid_argument "<where>: <problem>" when name_pattern_problem has one.
/// `where` names the file and the field, e.g. "config.json: quantization_config.ignore".
void check_name_pattern(const std::string& target, const std::string& where);

/// Whether "re:<pattern>" `target` matches a prefix of `name` (Python re.match).
/// An invalid pattern throws std::invalid_argument naming it. Compiled patterns are
/// cached; safe to call from several threads.
bool name_pattern_matches(const std::string& target, const std::string& name);

}  // namespace dcomp::ct
