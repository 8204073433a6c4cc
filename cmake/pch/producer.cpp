// The one source of a precompiled-header producer target (cmake/PrecompiledHeaders.cmake).
