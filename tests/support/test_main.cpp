// main() of every test program: the BLAS kernels are checked (and the process restarted
// with better ones where the library fell back) before GoogleTest runs anything, exactly
// as the dcomp executable does, so that tests compute with the kernels users get.
#include <gtest/gtest.h>

#include "kernels/platform/blas_core_restart.hpp"

int main(int argc, char** argv) {
  dcomp::platform::ensure_best_blas_core(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
