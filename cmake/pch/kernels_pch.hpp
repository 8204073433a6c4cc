// Precompiled header of kernels/ (with LibTorch), lifecycle/ and pipeline/: the standard
// library, ATen and nlohmann-json, parsed once per build instead of once per file. Only headers
// that kernels/ may use appear here (no CAF, no spdlog): the layering stays what the
// sources' own #include lines say, and a build without precompiled headers
// (-DDCOMP_PRECOMPILED_HEADERS=OFF) compiles the same sources.
// reference: https://cmake.org/cmake/help/v3.25/command/target_precompile_headers.html
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
