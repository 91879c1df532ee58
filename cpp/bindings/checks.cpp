#include "bindings/checks.h"

namespace nntrain::bind {

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

Shape shape_of(const py::array& a) {
  return Shape(a.shape(), a.shape() + a.ndim());
}

std::string dtype_name(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

void fail(const std::string& message) { throw py::value_error(message); }

template <>
const char* scalar_name<float>() { return "float32"; }
template <>
const char* scalar_name<double>() { return "float64"; }

namespace {

// The data of an integer input of one dtype (`kind` 'i' or 'u', `bytes` wide; `expected` names it), C-contiguous.
const void* integer_data(const py::array& a, const char* name, char kind, py::ssize_t bytes, const char* expected) {
  if (a.dtype().kind() != kind || a.itemsize() != bytes)
    fail(std::string(name) + ": expected " + expected + " array, got " + dtype_name(a));
  if (!(a.flags() & py::array::c_style))
    fail(std::string(name) + ": array must be C-contiguous (use numpy.ascontiguousarray)");
  return a.data();
}

}  // namespace

const std::int64_t* in_int64(const py::array& a, const char* name) {
  return static_cast<const std::int64_t*>(integer_data(a, name, 'i', 8, "an int64"));
}

const std::uint8_t* in_uint8(const py::array& a, const char* name) {
  return static_cast<const std::uint8_t*>(integer_data(a, name, 'u', 1, "a uint8"));
}

void expect_ndim(const py::array& a, const char* name, int ndim, const char* layout) {
  if (a.ndim() != ndim)
    fail(std::string(name) + ": expected a " + std::to_string(ndim) + "-D array " + layout + ", got shape " +
         shape_str(shape_of(a)));
}

void expect_shape(const py::array& a, const char* name, const Shape& shape) {
  if (shape_of(a) != shape)
    fail(std::string(name) + ": expected shape " + shape_str(shape) + ", got " + shape_str(shape_of(a)));
}

void expect_same_shape(const py::array& a, const char* a_name, const py::array& b, const char* b_name) {
  if (shape_of(a) != shape_of(b))
    fail(std::string(a_name) + ": shape " + shape_str(shape_of(a)) + " does not match " + b_name + " " +
         shape_str(shape_of(b)));
}

}  // namespace nntrain::bind
