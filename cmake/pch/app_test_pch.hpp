// Precompiled header of the test programs of actors/ and pipeline/: the application
// layers' header plus GoogleTest and GoogleMock.
#pragma once

#include "cmake/pch/app_pch.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
