// Precompiled header of the test programs of kernels/ and lifecycle/: the kernels' header
// plus GoogleTest and GoogleMock (no CAF).
#pragma once

#include "cmake/pch/kernels_pch.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
