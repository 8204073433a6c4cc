# Precompiled headers: ATen's headers alone take about 4 s of every translation unit that
# includes them, CAF's templates and GoogleTest about 1 s more. Each family of targets below
# parses its header once per build (one producer target per family) and every target of the
# family reuses that result (PRECOMPILE_HEADERS_REUSE_FROM).
#
#   family        header                            used by
#   kernels       cmake/pch/kernels_pch.hpp         kernels/* libraries that link LibTorch,
#                                                   lifecycle/, pipeline/
#   app           cmake/pch/app_pch.hpp             actors/, launch/, bench/
#   kernels_test  cmake/pch/kernels_test_pch.hpp    test programs of kernels/ and lifecycle/
#   app_test      cmake/pch/app_test_pch.hpp        test programs of actors/ and pipeline/
#
# Only actors/ and above see CAF in their header: lifecycle/ and pipeline/ compile on their own
# includes past LibTorch and nlohmann-json (spdlog's and yaml-cpp's, parsed in each file that
# names them), so none of them can use CAF without an #include that check-layering.sh refuses.
#
# GCC uses a precompiled header only where it was made with the same code-generation options
# (-fPIC, -O, sanitizers) and the same definitions of the macros it reads; otherwise it warns
# (-Winvalid-pch, which CMake adds) and parses the header as text, which is still correct. So
# every C++ file of the build is compiled with -fPIC (dcomp_build_flags), and each producer
# links exactly the libraries its family's targets see.
#
# -DDCOMP_PRECOMPILED_HEADERS=OFF compiles every file on its own includes (the layering check).
# reference: https://cmake.org/cmake/help/v3.25/command/target_precompile_headers.html
option(DCOMP_PRECOMPILED_HEADERS "Parse the LibTorch, CAF and GoogleTest headers once per build" ON)

set(_dcomp_pch_dir "${CMAKE_CURRENT_LIST_DIR}/pch")

# dcomp_pch_family(FAMILY LIBS ...): the producer target of one family.
function(dcomp_pch_family family)
  if(NOT DCOMP_PRECOMPILED_HEADERS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  set(_producer dcomp_pch_${family})
  add_library(${_producer} OBJECT "${_dcomp_pch_dir}/producer.cpp")
  target_link_libraries(${_producer} PRIVATE dcomp_build_flags ${ARG_LIBS})
  target_precompile_headers(${_producer} PRIVATE
    "$<$<COMPILE_LANGUAGE:CXX>:${_dcomp_pch_dir}/${family}_pch.hpp>")
endfunction()

# dcomp_use_pch(TARGET FAMILY): TARGET's C++ files start from FAMILY's precompiled header.
function(dcomp_use_pch target family)
  if(NOT DCOMP_PRECOMPILED_HEADERS)
    return()
  endif()
  if(NOT TARGET dcomp_pch_${family})
    message(FATAL_ERROR "dcomp: no precompiled-header family '${family}' (cmake/PrecompiledHeaders.cmake)")
  endif()
  target_precompile_headers(${target} REUSE_FROM dcomp_pch_${family})
endfunction()
