// Argument checking shared by every binding file (cpp/bindings/ is the only place that knows pybind11).
//
// Inputs arrive as py::array and are used in place (no copy) if they are C-contiguous float32/float64;
// anything else is a ValueError naming the argument. Buffers a kernel writes into (gradients to
// accumulate into) arrive as py::object and must already be C-contiguous, writeable arrays of the right
// dtype and shape: a converted copy would swallow the writes silently.
//
// Pattern of a binding (bind_activation.cpp's activation_forward for one kind; tests/test_bindings_example.py
// compiles this example, so keep it true):
//   py::array relu(const py::array& x) {
//     return with_float_type(x, "x", [&](auto tag) -> py::array {
//       using T = decltype(tag);
//       const T* xp = in<T>(x, "x");
//       auto out = empty<T>(shape_of(x));
//       T* op = data(out);
//       run_kernel([&] { activation_forward<T>(Activation::Relu, op, xp, x.size(), 0.0); });
//       return out;
//     });
//   }
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "common.h"

namespace nntrain::bind {

namespace py = pybind11;
using Shape = std::vector<index_t>;

std::string shape_str(const Shape& shape);
Shape shape_of(const py::array& a);
std::string dtype_name(const py::array& a);

[[noreturn]] void fail(const std::string& message);  // throws ValueError

template <class T>
const char* scalar_name();

// Whether `a` is a C-contiguous array of T: the check of `in`, without a message.
template <class T>
bool is_contiguous_of(const py::array& a) {
  return py::isinstance<py::array_t<T>>(a) && a.dtype().kind() == 'f' && a.itemsize() == sizeof(T) &&
         (a.flags() & py::array::c_style);
}

// Checks dtype == T and C-contiguity of an input.
template <class T>
const T* in(const py::array& a, const char* name) {
  if (!py::isinstance<py::array_t<T>>(a) || a.dtype().kind() != 'f' || a.itemsize() != sizeof(T))
    fail(std::string(name) + ": expected a " + scalar_name<T>() + " array, got " + dtype_name(a));
  if (!(a.flags() & py::array::c_style))
    fail(std::string(name) + ": array must be C-contiguous (use numpy.ascontiguousarray)");
  return static_cast<const T*>(a.data());
}

// A matrix whose rows are contiguous but may be further apart than its width (a column slice of a bigger
// C-contiguous array, or the array itself): its data and its row stride in elements, written to *ld.
template <class T>
const T* in_rows(const py::array& a, const char* name, index_t* ld) {
  if (!py::isinstance<py::array_t<T>>(a) || a.dtype().kind() != 'f' || a.itemsize() != sizeof(T))
    fail(std::string(name) + ": expected a " + scalar_name<T>() + " array, got " + dtype_name(a));
  const index_t rows = a.shape(0), cols = a.shape(1), row_step = a.strides(0), col_step = a.strides(1);
  const bool unit_cols = cols <= 1 || rows == 0 || col_step == index_t(sizeof(T));
  const bool rows_apart = rows <= 1 || cols == 0 || (row_step % index_t(sizeof(T)) == 0 && row_step / index_t(sizeof(T)) >= cols);
  if (!unit_cols || !rows_apart)
    fail(std::string(name) + ": rows must be contiguous and in order (a C-contiguous array or a column slice "
                             "of one; use numpy.ascontiguousarray)");
  *ld = rows <= 1 || cols == 0 ? std::max<index_t>(cols, 1) : row_step / index_t(sizeof(T));
  return static_cast<const T*>(a.data());
}

// An int64 input (labels, pooling indices), C-contiguous.
const std::int64_t* in_int64(const py::array& a, const char* name);

// A uint8 input (a fused max-pool's window positions), C-contiguous.
const std::uint8_t* in_uint8(const py::array& a, const char* name);

// Optional input: None gives nullptr.
template <class T>
const T* in_or_null(const py::object& o, const char* name) {
  if (o.is_none()) return nullptr;
  if (!py::isinstance<py::array>(o)) fail(std::string(name) + ": expected a NumPy array or None");
  return in<T>(py::reinterpret_borrow<py::array>(o), name);
}

// A buffer the kernel writes into: must be an existing writeable C-contiguous array of dtype T and
// exactly `shape`. None gives nullptr ("this gradient is not wanted").
template <class T>
T* out_or_null(const py::object& o, const char* name, const Shape& shape) {
  if (o.is_none()) return nullptr;
  if (!py::isinstance<py::array>(o)) fail(std::string(name) + ": expected a NumPy array or None");
  auto a = py::reinterpret_borrow<py::array>(o);
  in<T>(a, name);
  if (!a.writeable()) fail(std::string(name) + ": array is read-only");
  if (shape_of(a) != shape)
    fail(std::string(name) + ": expected shape " + shape_str(shape) + ", got " + shape_str(shape_of(a)));
  return static_cast<T*>(a.mutable_data());
}

void expect_ndim(const py::array& a, const char* name, int ndim, const char* layout);
void expect_shape(const py::array& a, const char* name, const Shape& shape);
// Shapes of two arrays that must be equal, e.g. dout against out.
void expect_same_shape(const py::array& a, const char* a_name, const py::array& b, const char* b_name);

template <class T>
py::array_t<T> empty(const Shape& shape) {
  return py::array_t<T>(std::vector<py::ssize_t>(shape.begin(), shape.end()));
}
template <class T>
py::array_t<T> zeros(const Shape& shape) {
  py::array_t<T> a = empty<T>(shape);
  std::fill_n(a.mutable_data(), a.size(), T(0));
  return a;
}
template <class T>
T* data(py::array_t<T>& a) {
  return a.mutable_data();
}

// The gradient argument of a backward whose kernel can write or add: the given array, which the kernel
// adds into, or (None) a new uninitialised one, which it writes (no zero-fill pass). Either is returned.
struct GradArg {
  py::object array;
  bool accumulate;
};
template <class T>
GradArg grad_or_new(const py::object& given, const Shape& shape) {
  if (!given.is_none()) return {given, true};
  return {empty<T>(shape), false};
}

// Calls f(float{}) or f(double{}) by the dtype of `a`; any other dtype is a ValueError.
template <class F>
auto with_float_type(const py::array& a, const char* name, F&& f) {
  if (a.dtype().kind() == 'f' && a.itemsize() == 4) return f(float{});
  if (a.dtype().kind() == 'f' && a.itemsize() == 8) return f(double{});
  fail(std::string(name) + ": expected a float32 or float64 array, got " + dtype_name(a));
}

// Runs a kernel with the GIL released and denormals flushed in the calling thread.
template <class F>
void run_kernel(F&& f) {
  py::gil_scoped_release nogil;
  FlushDenormalsScope ftz;
  f();
}

}  // namespace nntrain::bind
