// BatchNorm + ReLU + 2x2 max-pool, fused.
#include <cstdint>

#include "bindings/bind.h"
#include "bindings/checks.h"
#include "bindings/window_args.h"
#include "bn_relu_pool.h"

namespace nntrain::bind {

namespace {

template <class T>
const T* per_channel(const py::object& o, const char* name, index_t C) {
  const T* p = in_or_null<T>(o, name);
  if (p) expect_shape(py::reinterpret_borrow<py::array>(o), name, {C});
  return p;
}

Shape pooled_shape(const py::array& x) {
  if (x.shape(2) < 2 || x.shape(3) < 2)
    fail("x: 2x2 max-pooling needs H and W >= 2, got shape " + shape_str(shape_of(x)));
  return {x.shape(0), x.shape(1), x.shape(2) / 2, x.shape(3) / 2};
}

py::tuple forward(const py::array& x, const py::object& running_mean, const py::object& running_var,
                  const py::object& weight, const py::object& bias, bool training, double momentum, double eps) {
  expect_nchw(x, "x");
  const Shape pooled = pooled_shape(x);
  const index_t N = x.shape(0), C = x.shape(1), H = x.shape(2), W = x.shape(3);
  if (!(eps > 0)) fail("eps: must be positive, got " + std::to_string(eps));
  if (!(momentum >= 0 && momentum <= 1)) fail("momentum: must be in [0, 1], got " + std::to_string(momentum));
  if (running_mean.is_none() != running_var.is_none()) fail("running_mean, running_var: give both or neither");
  if (!training && running_mean.is_none())
    fail("running_mean: evaluation mode normalises with the running statistics; give them or use training=True");
  if (training && N * H * W <= 1)
    fail("x: training needs more than one value per channel, got shape " + shape_str(shape_of(x)));
  return with_float_type(x, "x", [&](auto tag) -> py::tuple {
    using T = decltype(tag);
    const T* xp = in<T>(x, "x");
    T* rm = out_or_null<T>(running_mean, "running_mean", {C});
    T* rv = out_or_null<T>(running_var, "running_var", {C});
    const T* wp = per_channel<T>(weight, "weight", C);
    const T* bp = per_channel<T>(bias, "bias", C);
    auto out = empty<T>(pooled);
    py::array_t<std::int8_t> code(std::vector<py::ssize_t>(pooled.begin(), pooled.end()));
    auto mean = empty<T>({C});
    auto invstd = empty<T>({C});
    T *op = data(out), *mp = data(mean), *ip = data(invstd);
    std::int8_t* cp = code.mutable_data();
    run_kernel([&] { bn_relu_pool_forward<T>(op, cp, mp, ip, rm, rv, xp, wp, bp, N, C, H, W, training, momentum, eps); });
    return py::make_tuple(out, mean, invstd, code);
  });
}

void backward(const py::array& dout, const py::array& x, const py::array& code, const py::object& weight,
              const py::array& mean, const py::array& invstd, bool training, const py::object& dx,
              const py::object& dweight, const py::object& dbias) {
  expect_nchw(x, "x");
  const Shape pooled = pooled_shape(x);
  const index_t N = x.shape(0), C = x.shape(1), H = x.shape(2), W = x.shape(3);
  expect_shape(dout, "dout", pooled);
  expect_shape(code, "code", pooled);
  expect_shape(mean, "mean", {C});
  expect_shape(invstd, "invstd", {C});
  if (code.dtype().kind() != 'i' || code.itemsize() != 1) fail("code: expected an int8 array, got " + dtype_name(code));
  if (!(code.flags() & py::array::c_style)) fail("code: array must be C-contiguous (use numpy.ascontiguousarray)");
  // Codes come from the caller and choose where the backward writes: check that each names a window position.
  const std::int8_t* cp = static_cast<const std::int8_t*>(code.data());
  for (index_t i = 0; i < index_t(code.size()); ++i)
    if (cp[i] < -1 || cp[i] > 3)
      fail("code: entry " + std::to_string(int(cp[i])) + " at flat position " + std::to_string(i) +
           " is not a window position (-1..3)");
  with_float_type(x, "x", [&](auto tag) {
    using T = decltype(tag);
    const T* gp = in<T>(dout, "dout");
    const T* xp = in<T>(x, "x");
    const T* wp = per_channel<T>(weight, "weight", C);
    const T* mp = in<T>(mean, "mean");
    const T* ip = in<T>(invstd, "invstd");
    T* dxp = out_or_null<T>(dx, "dx", shape_of(x));
    T* dwp = out_or_null<T>(dweight, "dweight", {C});
    T* dbp = out_or_null<T>(dbias, "dbias", {C});
    run_kernel([&] { bn_relu_pool_backward<T>(dxp, dwp, dbp, gp, cp, xp, wp, mp, ip, N, C, H, W, training); });
  });
}

}  // namespace

void bind_bn_relu_pool(py::module_& m) {
  m.def("bn_relu_pool_forward", &forward, py::arg("x"), py::arg("running_mean"), py::arg("running_var"),
        py::arg("weight"), py::arg("bias"), py::arg("training"), py::arg("momentum") = 0.1, py::arg("eps") = 1e-5,
        "(out, mean, invstd, code): batch_norm, ReLU and 2x2 max-pooling with stride 2 in one pass; code (int8) "
        "is the window position (0..3) each output's gradient goes to, -1 where the ReLU stops it.");
  m.def("bn_relu_pool_backward", &backward, py::arg("dout"), py::arg("x"), py::arg("code"), py::arg("weight"),
        py::arg("mean"), py::arg("invstd"), py::arg("training"), py::arg("dx") = py::none(),
        py::arg("dweight") = py::none(), py::arg("dbias") = py::none(),
        "Accumulates the input, weight and bias gradients of bn_relu_pool_forward (None skips one).");
}

}  // namespace nntrain::bind
