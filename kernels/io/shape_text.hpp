// "[2, 3, 4]": a tensor shape as error messages print it.
#pragma once

#include <string>

#include <c10/util/ArrayRef.h>

namespace dcomp::io {

std::string shape_text(c10::IntArrayRef shape);

}  // namespace dcomp::io
