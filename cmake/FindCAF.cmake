# FindCAF.cmake: locates the C++ Actor Framework (CAF) 0.17, which Debian ships
# without a CMake package configuration or a pkg-config file.
#
# Provides the imported targets CAF::core and CAF::io, and the variables
# CAF_FOUND, CAF_INCLUDE_DIR, CAF_VERSION.
#
# Note: Debian's libcaf-openmpi-3 and its caf*.pc files belong to OpenCoarrays
# (Fortran coarrays), not to the actor framework; they are deliberately ignored.

find_path(CAF_INCLUDE_DIR
  NAMES caf/all.hpp
  HINTS ${CAF_ROOT}/include ENV CAF_ROOT
  PATH_SUFFIXES include)

find_library(CAF_CORE_LIBRARY NAMES caf_core HINTS ${CAF_ROOT}/lib ENV CAF_ROOT)
find_library(CAF_IO_LIBRARY NAMES caf_io HINTS ${CAF_ROOT}/lib ENV CAF_ROOT)

if(CAF_INCLUDE_DIR AND EXISTS "${CAF_INCLUDE_DIR}/caf/config.hpp")
  file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" _caf_version_line
       REGEX "^#define CAF_VERSION [0-9]+")
  if(_caf_version_line)
    string(REGEX REPLACE "^#define CAF_VERSION ([0-9]+).*" "\\1" _caf_version_int "${_caf_version_line}")
    math(EXPR _caf_major "${_caf_version_int} / 10000")
    math(EXPR _caf_minor "(${_caf_version_int} / 100) % 100")
    math(EXPR _caf_patch "${_caf_version_int} % 100")
    set(CAF_VERSION "${_caf_major}.${_caf_minor}.${_caf_patch}")
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF
  REQUIRED_VARS CAF_CORE_LIBRARY CAF_INCLUDE_DIR
  VERSION_VAR CAF_VERSION)

if(CAF_FOUND AND NOT TARGET CAF::core)
  find_package(Threads REQUIRED)
  add_library(CAF::core UNKNOWN IMPORTED)
  set_target_properties(CAF::core PROPERTIES
    IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
  if(CAF_IO_LIBRARY)
    add_library(CAF::io UNKNOWN IMPORTED)
    set_target_properties(CAF::io PROPERTIES
      IMPORTED_LOCATION "${CAF_IO_LIBRARY}"
      INTERFACE_LINK_LIBRARIES CAF::core)
  endif()
endif()

mark_as_advanced(CAF_INCLUDE_DIR CAF_CORE_LIBRARY CAF_IO_LIBRARY)
