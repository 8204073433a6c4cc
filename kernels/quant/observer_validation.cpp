// reference: llm-compressor src/llmcompressor/observers/min_max.py (MinMaxObserver,
// StaticMinMaxObserver, MemorylessMinMaxObserver), mse.py (MovingAverageMSEObserver,
// MemorylessMSEObserver), moving_base.py (averaging_constant, default 0.01).
#include "kernels/quant/observer_validation.hpp"

#include <set>
#include <string>

#include "kernels/quant/activation_range.hpp"
#include "kernels/quant/observers.hpp"

namespace dcomp::quant {
namespace {

std::string list_or_none(const std::set<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + name;
  return text.empty() ? "none" : text;
}

// The observer_kwargs keys the observer `args` names reads (the name is known).
std::set<std::string> kwargs_of(const QuantizationArgs& args, ObservedTensor tensor) {
  std::set<std::string> keys;
  if (*args.observer == "minmax" || *args.observer == "mse") keys.insert("averaging_constant");
  if (tensor == ObservedTensor::Weights && weight_observer_kind(args) == WeightObserverKind::Mse) {
    keys.insert({"maxshrink", "grid", "norm", "patience", "expand"});
  }
  return keys;
}

// averaging_constant of a moving average: a number in (0, 1] (upstream's default is 0.01).
void check_averaging_constant(const nlohmann::json& observer_kwargs) {
  const auto it = observer_kwargs.find("averaging_constant");
  if (it == observer_kwargs.end() || it->is_null()) return;
  if (!it->is_number() || !(it->get<double>() > 0.0 && it->get<double>() <= 1.0)) {
    throw QuantConfigError("observer_kwargs.averaging_constant must be a number in (0, 1], got " + it->dump());
  }
}

}  // namespace

void validate_observer(const QuantizationArgs& args, ObservedTensor tensor) {
  if (!args.observer_kwargs.is_null() && !args.observer_kwargs.is_object()) {
    throw QuantConfigError("observer_kwargs must be a mapping, got " + args.observer_kwargs.dump());
  }
  const bool has_kwargs = args.observer_kwargs.is_object() && !args.observer_kwargs.empty();
  if (!args.observer) {
    if (has_kwargs) {
      throw QuantConfigError("observer_kwargs " + args.observer_kwargs.dump() +
                             " are given, but these arguments have no observer (dynamic: true computes its scales at "
                             "run time)");
    }
    return;
  }
  // The observer name: each call throws QuantConfigError listing the names it knows.
  if (tensor == ObservedTensor::Weights) {
    weight_observer_kind(args);
  } else {
    activation_range_averaging(args.observer);
  }
  if (!has_kwargs) return;
  const std::set<std::string> known = kwargs_of(args, tensor);
  for (const auto& item : args.observer_kwargs.items()) {
    if (!known.count(item.key())) {
      throw QuantConfigError("observer_kwargs." + item.key() + ": observer '" + *args.observer +
                             "' takes no such argument (it takes: " + list_or_none(known) + ")");
    }
  }
  if (known.count("averaging_constant")) check_averaging_constant(args.observer_kwargs);
  if (tensor == ObservedTensor::Weights && weight_observer_kind(args) == WeightObserverKind::Mse) {
    MseSearchOptions::from_kwargs(args.observer_kwargs);  // each value's type and range
  }
}

}  // namespace dcomp::quant
