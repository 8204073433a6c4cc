// Precompiled header of the test programs of kernels/: the kernels' header plus GoogleTest
// and GoogleMock.
#pragma once

#include "cmake/pch/kernels_pch.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
