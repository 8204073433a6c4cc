#include "kernels/io/shape_text.hpp"

#include <sstream>

namespace dcomp::io {

std::string shape_text(c10::IntArrayRef shape) {
  std::ostringstream text;
  text << "[";
  for (size_t i = 0; i < shape.size(); ++i) text << (i ? ", " : "") << shape[i];
  text << "]";
  return text.str();
}

}  // namespace dcomp::io
