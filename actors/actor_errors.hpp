// Errors that actors reply with, and their translation back into exceptions
// for blocking callers.
#pragma once

#include <stdexcept>
#include <string>

#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>

namespace dcomp::actors {

/// Error codes in CAF's "dcomp" error category.
enum class lifecycle_errc : uint8_t {
  rule_violation = 1,  // a lifecycle rule was broken (lifecycle::LifecycleError)
  recipe_invalid,      // the recipe could not be read (lifecycle::RecipeError)
  modifier_failed,     // a modifier threw while handling a call
  internal,            // anything else
  non_finite,          // a NaN or an infinity was refused (quant::NonFiniteError): resuming cannot help
};

/// A modifier threw; the message names the modifier and the call.
class ModifierFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

caf::error make_error(lifecycle_errc code, std::string message);
/// Registers the "dcomp" category so errors print their message.
void add_error_category(caf::actor_system_config& config);
/// The message carried by an error (or CAF's rendering of a foreign error).
std::string error_message(const caf::error& error);
/// Throws the exception matching the error's code.
[[noreturn]] void rethrow(const caf::error& error);
/// Maps the exception in flight to an error reply.
caf::error error_from_current_exception(const std::string& prefix);

}  // namespace dcomp::actors
