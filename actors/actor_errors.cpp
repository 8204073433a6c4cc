#include "actors/actor_errors.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>

#include "kernels/quant/non_finite.hpp"
#include "lifecycle/errors.hpp"

namespace dcomp::actors {
namespace {
constexpr caf::atom_value kCategory = caf::atom("dcomp");
}

caf::error make_error(lifecycle_errc code, std::string message) {
  return caf::error(static_cast<uint8_t>(code), kCategory, caf::make_message(std::move(message)));
}

void add_error_category(caf::actor_system_config& config) {
  config.add_error_category(kCategory, [](uint8_t, caf::atom_value, const caf::message& context) {
    return context.match_elements<std::string>() ? context.get_as<std::string>(0) : std::string("dcomp error");
  });
}

std::string error_message(const caf::error& error) {
  if (error.category() == kCategory && error.context().match_elements<std::string>()) {
    return error.context().get_as<std::string>(0);
  }
  return caf::to_string(error);
}

void rethrow(const caf::error& error) {
  const std::string message = error_message(error);
  if (error.category() == kCategory) {
    switch (static_cast<lifecycle_errc>(error.code())) {
      case lifecycle_errc::rule_violation: throw lifecycle::LifecycleError(message);
      case lifecycle_errc::recipe_invalid: throw lifecycle::RecipeError(message);
      case lifecycle_errc::modifier_failed: throw ModifierFailure(message);
      case lifecycle_errc::non_finite: throw quant::NonFiniteError(message);
      case lifecycle_errc::internal: break;
    }
  }
  throw std::runtime_error(message);
}

caf::error error_from_current_exception(const std::string& prefix) {
  try {
    throw;
  } catch (const lifecycle::LifecycleError& e) {
    return make_error(lifecycle_errc::rule_violation, prefix + e.what());
  } catch (const lifecycle::RecipeError& e) {
    return make_error(lifecycle_errc::recipe_invalid, prefix + e.what());
  } catch (const ModifierFailure& e) {
    return make_error(lifecycle_errc::modifier_failed, e.what());
  } catch (const quant::NonFiniteError& e) {
    return make_error(lifecycle_errc::non_finite, prefix + e.what());
  } catch (const std::exception& e) {
    return make_error(lifecycle_errc::internal, prefix + e.what());
  } catch (...) {
    return make_error(lifecycle_errc::internal, prefix + "unknown exception");
  }
}

}  // namespace dcomp::actors
