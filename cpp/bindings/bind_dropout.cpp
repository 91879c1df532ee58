// Dropout with a counter-based mask.
#include "bindings/bind.h"
#include "bindings/checks.h"
#include "dropout.h"

namespace nntrain::bind {

namespace {

void check_p(double p) {
  if (!(p >= 0.0 && p <= 1.0)) fail("p: dropout probability must be in [0, 1], got " + std::to_string(p));
}

py::array dropout_fwd(const py::array& x, double p, std::uint64_t seed) {
  check_p(p);
  return with_float_type(x, "x", [&](auto tag) -> py::array {
    using T = decltype(tag);
    const T* xp = in<T>(x, "x");
    auto out = empty<T>(shape_of(x));
    T* op = data(out);
    run_kernel([&] { dropout_forward<T>(op, xp, x.size(), p, seed); });
    return out;
  });
}

py::object dropout_bwd(const py::array& dout, const py::object& dx, double p, std::uint64_t seed) {
  check_p(p);
  return with_float_type(dout, "dout", [&](auto tag) -> py::object {
    using T = decltype(tag);
    const T* gp = in<T>(dout, "dout");
    const GradArg grad = grad_or_new<T>(dx, shape_of(dout));
    T* dp = out_or_null<T>(grad.array, "dx", shape_of(dout));
    run_kernel([&] { dropout_backward<T>(dp, gp, dout.size(), p, seed, grad.accumulate); });
    return grad.array;
  });
}

}  // namespace

void bind_dropout(py::module_& m) {
  m.def("dropout_forward", &dropout_fwd, py::arg("x"), py::arg("p"), py::arg("seed"),
        "x / (1 - p) where the mask of (seed, element index) keeps it, else 0.");
  m.def("dropout_backward", &dropout_bwd, py::arg("dout"), py::arg("dx"), py::arg("p"), py::arg("seed"),
        "dx += dout / (1 - p) where the same mask keeps it, and returns dx; with dx=None, a new array of it.");
}

}  // namespace nntrain::bind
