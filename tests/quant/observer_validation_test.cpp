// validate_observer: the observer names dcomp implements for weights and for activations,
// the observer_kwargs each reads (llm-compressor's observers: averaging_constant for the
// moving averages, maxshrink / patience / grid / norm for the MSE search), and their ranges.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kernels/quant/observer_validation.hpp"

namespace dcomp::quant {
namespace {

using ::testing::HasSubstr;

QuantizationArgs observed_by(const std::string& observer, nlohmann::json kwargs = nlohmann::json::object()) {
  QuantizationArgs args;
  args.observer = observer;
  args.observer_kwargs = std::move(kwargs);
  return args;
}

std::string error_of(const QuantizationArgs& args, ObservedTensor tensor) {
  try {
    validate_observer(args, tensor);
  } catch (const QuantConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ObserverValidation, AcceptsTheObserversDcompImplements) {
  for (const char* name : {"minmax", "static_minmax", "memoryless_minmax", "mse", "memoryless_mse"}) {
    EXPECT_EQ(error_of(observed_by(name), ObservedTensor::Weights), "") << name;
  }
  for (const char* name : {"minmax", "static_minmax", "memoryless_minmax"}) {
    EXPECT_EQ(error_of(observed_by(name), ObservedTensor::Activations), "") << name;
  }
  EXPECT_EQ(error_of(observed_by("mse", {{"maxshrink", 0.5}, {"grid", 40}, {"norm", 2.0}, {"patience", 3}}),
                     ObservedTensor::Weights),
            "");
  EXPECT_EQ(error_of(observed_by("minmax", {{"averaging_constant", 0.1}}), ObservedTensor::Activations), "");
  QuantizationArgs dynamic;  // dynamic arguments have no observer and no kwargs
  EXPECT_EQ(error_of(dynamic, ObservedTensor::Activations), "");
}

TEST(ObserverValidation, RefusesUnknownNames) {
  EXPECT_THAT(error_of(observed_by("histogram"), ObservedTensor::Weights), HasSubstr("'histogram' is not supported"));
  EXPECT_THAT(error_of(observed_by("mse"), ObservedTensor::Activations), HasSubstr("'mse' is not supported for activations"));
}

TEST(ObserverValidation, RefusesKwargsTheObserverDoesNotRead) {
  EXPECT_THAT(error_of(observed_by("mse", {{"maxshrnk", 0.5}}), ObservedTensor::Weights),
              HasSubstr("observer_kwargs.maxshrnk: observer 'mse' takes no such argument"));
  EXPECT_THAT(error_of(observed_by("memoryless_minmax", {{"grid", 50}}), ObservedTensor::Weights),
              HasSubstr("observer_kwargs.grid: observer 'memoryless_minmax' takes no such argument (it takes: none)"));
  EXPECT_THAT(error_of(observed_by("static_minmax", {{"averaging_constant", 0.5}}), ObservedTensor::Activations),
              HasSubstr("observer_kwargs.averaging_constant"));
  QuantizationArgs dynamic;
  dynamic.observer_kwargs = {{"averaging_constant", 0.5}};
  EXPECT_THAT(error_of(dynamic, ObservedTensor::Activations), HasSubstr("have no observer"));
}

TEST(ObserverValidation, RefusesValuesOutOfRange) {
  EXPECT_THAT(error_of(observed_by("mse", {{"maxshrink", 2}}), ObservedTensor::Weights),
              HasSubstr("observer_kwargs.maxshrink = 2 is outside"));
  EXPECT_THAT(error_of(observed_by("mse", {{"grid", "many"}}), ObservedTensor::Weights), HasSubstr("must be a number"));
  EXPECT_THAT(error_of(observed_by("minmax", {{"averaging_constant", 0}}), ObservedTensor::Activations),
              HasSubstr("averaging_constant must be a number in (0, 1]"));
  EXPECT_THAT(error_of(observed_by("minmax", {{"averaging_constant", 1.5}}), ObservedTensor::Weights),
              HasSubstr("averaging_constant must be a number in (0, 1]"));
}

}  // namespace
}  // namespace dcomp::quant
