// Precompiled header of actors/, launch/ and bench/ (the layers that may use CAF):
// the kernels' header plus CAF, spdlog and yaml-cpp.
// reference: https://cmake.org/cmake/help/v3.25/command/target_precompile_headers.html
#pragma once

#include "cmake/pch/kernels_pch.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>
