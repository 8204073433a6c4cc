#include "actors/lifecycle_client.hpp"

#include <caf/all.hpp>

#include "actors/actor_errors.hpp"
#include "actors/coordinator.hpp"

namespace dcomp::actors {

LifecycleClient::LifecycleClient(caf::actor_system& system, const lifecycle::ModifierRegistry& registry)
    : system_(system), coordinator_(system.spawn(::dcomp::actors::coordinator, &registry)), owns_coordinator_(true) {}

LifecycleClient::LifecycleClient(caf::actor_system& system, coordinator_actor coordinator)
    : system_(system), coordinator_(std::move(coordinator)) {}

LifecycleClient::~LifecycleClient() {
  if (owns_coordinator_) caf::anon_send_exit(coordinator_, caf::exit_reason::user_shutdown);
}

template <class... Ts>
std::vector<nlohmann::json> LifecycleClient::call(Ts&&... xs) {
  caf::scoped_actor self{system_};
  std::vector<nlohmann::json> results;
  caf::error failure;
  self->request(coordinator_, caf::infinite, std::forward<Ts>(xs)...)
      .receive([&](LifecycleReply& reply) { results = std::move(reply.results); },
               [&](caf::error& error) { failure = std::move(error); });
  if (failure) rethrow(failure);
  return results;
}

std::vector<nlohmann::json> LifecycleClient::initialize(InitializeRequest request) {
  return call(initialize_atom::value, std::move(request));
}

std::vector<nlohmann::json> LifecycleClient::initialize(lifecycle::RecipeSource recipe, lifecycle::Kwargs kwargs) {
  InitializeRequest request;
  request.recipe = std::move(recipe);
  request.kwargs = std::move(kwargs);
  return initialize(std::move(request));
}

std::vector<nlohmann::json> LifecycleClient::event(lifecycle::EventType type, std::optional<int64_t> global_step,
                                                   lifecycle::Kwargs kwargs) {
  return call(event_atom::value, EventRequest{type, global_step, std::move(kwargs)});
}

std::vector<nlohmann::json> LifecycleClient::finalize(lifecycle::Kwargs kwargs) {
  return call(finalize_atom::value, FinalizeRequest{std::move(kwargs)});
}

void LifecycleClient::reset() { call(reset_atom::value); }

}  // namespace dcomp::actors
