// The run's progress display: durations as written out by hand per range (tenths of a
// second, minutes and seconds, hours and minutes), and the ETA as the elapsed time per
// layer done by this process times the layers left, bounded by two readings of the clock.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "pipeline/progress_display.hpp"

namespace dcomp::pipeline {
namespace {

TEST(ProgressDisplay, DurationsUnderAMinuteShowTenthsOfASecond) {
  EXPECT_EQ(format_duration(0), "0.0s");
  EXPECT_EQ(format_duration(4.24), "4.2s");
  EXPECT_EQ(format_duration(59.94), "59.9s");
}

TEST(ProgressDisplay, DurationsUnderAnHourShowMinutesAndSeconds) {
  EXPECT_EQ(format_duration(60), "1m00s");
  EXPECT_EQ(format_duration(62.9), "1m02s");  // whole seconds, not rounded
  EXPECT_EQ(format_duration(750), "12m30s");
  EXPECT_EQ(format_duration(3599.9), "59m59s");
}

TEST(ProgressDisplay, LongerDurationsShowHoursAndMinutes) {
  EXPECT_EQ(format_duration(3600), "1h00m");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(26 * 3600 + 5 * 60 + 59), "26h05m");
}

TEST(ProgressDisplay, NoEstimateBeforeThisProcessFinishedALayer) {
  const ProgressDisplay display(/*rank=*/1, /*total_layers=*/8, /*first_layer=*/3);
  EXPECT_EQ(display.eta_seconds(3), 0.0);
  EXPECT_EQ(display.eta_seconds(2), 0.0);
}

TEST(ProgressDisplay, TheEstimateIsTheTimePerLayerDoneHereTimesTheLayersLeft) {
  // Resumed at layer 2 of 10; 2 layers done here (layers 2 and 3), 6 left: 3 × elapsed.
  ProgressDisplay display(/*rank=*/1, /*total_layers=*/10, /*first_layer=*/2);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const double before = display.elapsed_seconds();
  const double eta = display.eta_seconds(4);
  const double after = display.elapsed_seconds();
  EXPECT_GE(before, 0.02);
  EXPECT_GE(eta, before / 2 * 6);
  EXPECT_LE(eta, after / 2 * 6);
  display.phase(4, "compress");  // not rank 0: draws nothing, and must not fail
}

}  // namespace
}  // namespace dcomp::pipeline
