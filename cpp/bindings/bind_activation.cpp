// Elementwise activations, softmax and log-softmax.
#include "activation.h"
#include "bindings/activation_args.h"
#include "bindings/bind.h"
#include "bindings/checks.h"
#include "softmax.h"

namespace nntrain::bind {

namespace {

py::array activation_fwd(const std::string& kind, const py::array& x, double param) {
  const Activation a = activation_of(kind);
  return with_float_type(x, "x", [&](auto tag) -> py::array {
    using T = decltype(tag);
    const T* xp = in<T>(x, "x");
    auto out = empty<T>(shape_of(x));
    T* op = data(out);
    run_kernel([&] { activation_forward<T>(a, op, xp, x.size(), param); });
    return out;
  });
}

py::object activation_bwd(const std::string& kind, const py::array& dout, const py::object& x, const py::object& y,
                          const py::object& dx, double param) {
  const Activation a = activation_of(kind);
  const char* wanted = derivative_reads_output(a) ? "y" : "x";
  const py::object& given = derivative_reads_output(a) ? y : x;
  if (given.is_none()) fail(std::string(wanted) + ": " + kind + "_backward needs the forward's " +
                            (derivative_reads_output(a) ? "output" : "input"));
  const py::array ref = py::reinterpret_borrow<py::array>(given);
  return with_float_type(dout, "dout", [&](auto tag) -> py::object {
    using T = decltype(tag);
    const T* gp = in<T>(dout, "dout");
    const T* refp = in<T>(ref, wanted);
    expect_same_shape(dout, "dout", ref, wanted);
    const GradArg grad = grad_or_new<T>(dx, shape_of(dout));
    T* dp = out_or_null<T>(grad.array, "dx", shape_of(dout));
    const T* xp = derivative_reads_output(a) ? nullptr : refp;
    const T* yp = derivative_reads_output(a) ? refp : nullptr;
    run_kernel([&] { activation_backward<T>(a, dp, gp, xp, yp, dout.size(), param, grad.accumulate); });
    return grad.array;
  });
}

// Softmax over the last axis of an array of any rank >= 1.
struct Rows {
  index_t rows, cols;
};
Rows rows_of(const py::array& x, const char* name) {
  if (x.ndim() < 1) fail(std::string(name) + ": expected an array of at least 1 dimension, got a scalar");
  const index_t cols = x.shape(x.ndim() - 1);
  return {cols == 0 ? 0 : index_t(x.size()) / cols, cols};
}

void check_temperature(double t) {
  if (!(t > 0) || !std::isfinite(t)) fail("temperature: must be a positive finite number, got " + std::to_string(t));
}

template <bool Log>
py::array softmax_fwd(const py::array& x, double temperature) {
  check_temperature(temperature);
  const Rows r = rows_of(x, "x");
  return with_float_type(x, "x", [&](auto tag) -> py::array {
    using T = decltype(tag);
    const T* xp = in<T>(x, "x");
    auto out = empty<T>(shape_of(x));
    T* op = data(out);
    run_kernel([&] {
      if constexpr (Log) log_softmax_forward<T>(op, xp, r.rows, r.cols, temperature);
      else softmax_forward<T>(op, xp, r.rows, r.cols, temperature);
    });
    return out;
  });
}

template <bool Log>
py::object softmax_bwd(const py::array& dout, const py::array& y, const py::object& dx, double temperature) {
  check_temperature(temperature);
  const Rows r = rows_of(y, "y");
  expect_same_shape(dout, "dout", y, "y");
  return with_float_type(y, "y", [&](auto tag) -> py::object {
    using T = decltype(tag);
    const T* gp = in<T>(dout, "dout");
    const T* yp = in<T>(y, "y");
    const GradArg grad = grad_or_new<T>(dx, shape_of(y));
    T* dp = out_or_null<T>(grad.array, "dx", shape_of(y));
    run_kernel([&] {
      if constexpr (Log) log_softmax_backward<T>(dp, gp, yp, r.rows, r.cols, temperature, grad.accumulate);
      else softmax_backward<T>(dp, gp, yp, r.rows, r.cols, temperature, grad.accumulate);
    });
    return grad.array;
  });
}

}  // namespace

void bind_activation(py::module_& m) {
  m.def("activation_forward", &activation_fwd, py::arg("kind"), py::arg("x"), py::arg("param") = 0.0,
        "f(x) elementwise; kind is relu, leaky_relu (param: negative_slope), elu (param: alpha), sigmoid, "
        "tanh, gelu or gelu_tanh.");
  m.def("activation_backward", &activation_bwd, py::arg("kind"), py::arg("dout"), py::arg("x"), py::arg("y"),
        py::arg("dx"), py::arg("param") = 0.0,
        "dx += dout * f'(x) and returns dx; with dx=None, a new array of dout * f'(x). Sigmoid and tanh read "
        "the forward output y, the others the input x.");
  m.def("softmax_forward", &softmax_fwd<false>, py::arg("x"), py::arg("temperature") = 1.0,
        "softmax(x / temperature) over the last axis.");
  m.def("softmax_backward", &softmax_bwd<false>, py::arg("dout"), py::arg("y"), py::arg("dx"),
        py::arg("temperature") = 1.0,
        "dx += y * (dout - sum(dout * y)) / temperature, y the softmax output, and returns dx; with dx=None, a "
        "new array of it.");
  m.def("log_softmax_forward", &softmax_fwd<true>, py::arg("x"), py::arg("temperature") = 1.0,
        "log softmax(x / temperature) over the last axis.");
  m.def("log_softmax_backward", &softmax_bwd<true>, py::arg("dout"), py::arg("y"), py::arg("dx"),
        py::arg("temperature") = 1.0,
        "dx += (dout - exp(y) * sum(dout)) / temperature, y the log-softmax output, and returns dx; with "
        "dx=None, a new array of it.");
}

}  // namespace nntrain::bind
