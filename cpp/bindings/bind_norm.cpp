// Batch and layer normalisation.
#include <cmath>

#include "batch_norm.h"
#include "layer_norm.h"
#include "bindings/bind.h"
#include "bindings/checks.h"

namespace nntrain::bind {

namespace {

// (N, C) features or (N, C, H, W) images, viewed as (N, C, S).
struct NormShape {
  index_t N, C, S;
};

NormShape norm_shape(const py::array& x) {
  if (x.ndim() != 2 && x.ndim() != 4)
    fail("x: expected (N, C) or (N, C, H, W), got shape " + shape_str(shape_of(x)));
  const index_t S = x.ndim() == 4 ? x.shape(2) * x.shape(3) : 1;
  return {x.shape(0), x.shape(1), S};
}

template <class T>
const T* per_channel(const py::object& o, const char* name, index_t C) {
  const T* p = in_or_null<T>(o, name);
  if (p) expect_shape(py::reinterpret_borrow<py::array>(o), name, {C});
  return p;
}

// The forward's arguments that do not depend on the element type.
void check_norm_forward(const py::array& x, const NormShape& s, const py::object& running_mean,
                        const py::object& running_var, bool training, double momentum, double eps) {
  if (!(eps > 0)) fail("eps: must be positive, got " + std::to_string(eps));
  if (!(momentum >= 0 && momentum <= 1)) fail("momentum: must be in [0, 1], got " + std::to_string(momentum));
  if (running_mean.is_none() != running_var.is_none())
    fail("running_mean, running_var: give both or neither");
  if (!training && running_mean.is_none())
    fail("running_mean: evaluation mode normalises with the running statistics; give them or use training=True");
  if (training && s.N * s.S <= 1)
    fail("x: training needs more than one value per channel, got shape " + shape_str(shape_of(x)));
}

// A forward's input arrays, checked.
template <class T>
struct NormInputs {
  const T* x;
  T *running_mean, *running_var;
  const T *weight, *bias;
};

template <class T>
NormInputs<T> norm_inputs(const py::array& x, const py::object& running_mean, const py::object& running_var,
                          const py::object& weight, const py::object& bias, index_t C) {
  // The running statistics are updated in place, so they must be arrays we can write.
  return {in<T>(x, "x"), out_or_null<T>(running_mean, "running_mean", {C}),
          out_or_null<T>(running_var, "running_var", {C}), per_channel<T>(weight, "weight", C),
          per_channel<T>(bias, "bias", C)};
}

py::tuple batch_norm_fwd(const py::array& x, const py::object& running_mean, const py::object& running_var,
                         const py::object& weight, const py::object& bias, bool training, double momentum,
                         double eps, bool relu) {
  const NormShape s = norm_shape(x);
  check_norm_forward(x, s, running_mean, running_var, training, momentum, eps);
  return with_float_type(x, "x", [&](auto tag) -> py::tuple {
    using T = decltype(tag);
    const NormInputs<T> inputs = norm_inputs<T>(x, running_mean, running_var, weight, bias, s.C);
    auto out = empty<T>(shape_of(x));
    auto mean = empty<T>({s.C});
    auto invstd = empty<T>({s.C});
    T *op = data(out), *mp = data(mean), *ip = data(invstd);
    run_kernel([&] {
      batch_norm_forward<T>(op, mp, ip, inputs.running_mean, inputs.running_var, inputs.x, inputs.weight,
                            inputs.bias, s.N, s.C, s.S, training, momentum, eps, relu);
    });
    return py::make_tuple(out, mean, invstd);
  });
}

// (N, C, H, W) images of at least 2x2, pooled to (N, C, H/2, W/2).
Shape pooled_shape(const py::array& x) {
  expect_ndim(x, "x", 4, "(N, C, H, W)");
  if (x.shape(2) < 2 || x.shape(3) < 2)
    fail("x: a 2x2 max-pool needs images of at least 2x2, got shape " + shape_str(shape_of(x)));
  return {x.shape(0), x.shape(1), x.shape(2) / 2, x.shape(3) / 2};
}

py::tuple batch_norm_relu_max_pool_fwd(const py::array& x, const py::object& running_mean,
                                       const py::object& running_var, const py::object& weight,
                                       const py::object& bias, bool training, double momentum, double eps) {
  const Shape pooled = pooled_shape(x);
  const NormShape s = norm_shape(x);
  check_norm_forward(x, s, running_mean, running_var, training, momentum, eps);
  return with_float_type(x, "x", [&](auto tag) -> py::tuple {
    using T = decltype(tag);
    const NormInputs<T> inputs = norm_inputs<T>(x, running_mean, running_var, weight, bias, s.C);
    auto out = empty<T>(pooled);
    auto window = empty<std::uint8_t>(pooled);
    auto mean = empty<T>({s.C});
    auto invstd = empty<T>({s.C});
    T *op = data(out), *mp = data(mean), *ip = data(invstd);
    std::uint8_t* wnd = data(window);
    run_kernel([&] {
      batch_norm_relu_max_pool_forward<T>(op, wnd, mp, ip, inputs.running_mean, inputs.running_var, inputs.x,
                                          inputs.weight, inputs.bias, x.shape(0), x.shape(1), x.shape(2), x.shape(3),
                                          training, momentum, eps);
    });
    return py::make_tuple(out, window, mean, invstd);
  });
}

void batch_norm_relu_max_pool_bwd(const py::array& dout, const py::array& out, const py::array& window,
                                  const py::array& x, const py::object& weight, const py::array& mean,
                                  const py::array& invstd, bool training, const py::object& dx,
                                  const py::object& dweight, const py::object& dbias, bool accumulate) {
  const Shape pooled = pooled_shape(x);
  const index_t C = x.shape(1);
  expect_shape(dout, "dout", pooled);
  expect_shape(out, "out", pooled);
  expect_shape(window, "window", pooled);
  expect_shape(mean, "mean", {C});
  expect_shape(invstd, "invstd", {C});
  const std::uint8_t* wnd = in_uint8(window, "window");
  with_float_type(x, "x", [&](auto tag) {
    using T = decltype(tag);
    const T* gp = in<T>(dout, "dout");
    const T* outp = in<T>(out, "out");
    const T* xp = in<T>(x, "x");
    const T* wp = per_channel<T>(weight, "weight", C);
    const T* mp = in<T>(mean, "mean");
    const T* ip = in<T>(invstd, "invstd");
    T* dxp = out_or_null<T>(dx, "dx", shape_of(x));
    T* dwp = out_or_null<T>(dweight, "dweight", {C});
    T* dbp = out_or_null<T>(dbias, "dbias", {C});
    run_kernel([&] {
      batch_norm_relu_max_pool_backward<T>(dxp, dwp, dbp, gp, outp, wnd, xp, wp, mp, ip, x.shape(0), C, x.shape(2),
                                           x.shape(3), training, accumulate);
    });
  });
}

void batch_norm_bwd(const py::array& dout, const py::array& x, const py::object& weight, const py::array& mean,
                    const py::array& invstd, bool training, const py::object& dx, const py::object& dweight,
                    const py::object& dbias, const py::object& relu_out, bool accumulate) {
  const NormShape s = norm_shape(x);
  expect_same_shape(dout, "dout", x, "x");
  expect_shape(mean, "mean", {s.C});
  expect_shape(invstd, "invstd", {s.C});
  with_float_type(x, "x", [&](auto tag) {
    using T = decltype(tag);
    const T* gp = in<T>(dout, "dout");
    const T* xp = in<T>(x, "x");
    const T* wp = per_channel<T>(weight, "weight", s.C);
    const T* mp = in<T>(mean, "mean");
    const T* ip = in<T>(invstd, "invstd");
    T* dxp = out_or_null<T>(dx, "dx", shape_of(x));
    T* dwp = out_or_null<T>(dweight, "dweight", {s.C});
    T* dbp = out_or_null<T>(dbias, "dbias", {s.C});
    const T* rp = in_or_null<T>(relu_out, "relu_out");
    if (rp) expect_same_shape(py::reinterpret_borrow<py::array>(relu_out), "relu_out", x, "x");
    run_kernel([&] { batch_norm_backward<T>(dxp, dwp, dbp, gp, xp, wp, mp, ip, s.N, s.C, s.S, training, rp,
                                                            accumulate); });
  });
}

py::tuple layer_norm_fwd(const py::array& x, const py::object& weight, const py::object& bias, double eps) {
  expect_ndim(x, "x", 2, "(rows, normalized size)");
  if (!(eps > 0)) fail("eps: must be positive, got " + std::to_string(eps));
  const index_t N = x.shape(0), D = x.shape(1);
  return with_float_type(x, "x", [&](auto tag) -> py::tuple {
    using T = decltype(tag);
    const T* xp = in<T>(x, "x");
    const T* wp = per_channel<T>(weight, "weight", D);
    const T* bp = per_channel<T>(bias, "bias", D);
    auto out = empty<T>({N, D});
    auto mean = empty<T>({N});
    auto rstd = empty<T>({N});
    T *op = data(out), *mp = data(mean), *rp = data(rstd);
    run_kernel([&] { layer_norm_forward<T>(op, mp, rp, xp, wp, bp, N, D, eps); });
    return py::make_tuple(out, mean, rstd);
  });
}

void layer_norm_bwd(const py::array& dout, const py::array& x, const py::object& weight, const py::array& mean,
                    const py::array& rstd, const py::object& dx, const py::object& dweight, const py::object& dbias) {
  expect_ndim(x, "x", 2, "(rows, normalized size)");
  expect_same_shape(dout, "dout", x, "x");
  const index_t N = x.shape(0), D = x.shape(1);
  expect_shape(mean, "mean", {N});
  expect_shape(rstd, "rstd", {N});
  with_float_type(x, "x", [&](auto tag) {
    using T = decltype(tag);
    const T* gp = in<T>(dout, "dout");
    const T* xp = in<T>(x, "x");
    const T* wp = per_channel<T>(weight, "weight", D);
    const T* mp = in<T>(mean, "mean");
    const T* rp = in<T>(rstd, "rstd");
    T* dxp = out_or_null<T>(dx, "dx", {N, D});
    T* dwp = out_or_null<T>(dweight, "dweight", {D});
    T* dbp = out_or_null<T>(dbias, "dbias", {D});
    run_kernel([&] { layer_norm_backward<T>(dxp, dwp, dbp, gp, xp, wp, mp, rp, N, D); });
  });
}

}  // namespace

void bind_norm(py::module_& m) {
  m.def("batch_norm_forward", &batch_norm_fwd, py::arg("x"), py::arg("running_mean"), py::arg("running_var"),
        py::arg("weight"), py::arg("bias"), py::arg("training"), py::arg("momentum") = 0.1, py::arg("eps") = 1e-5,
        py::arg("relu") = false,
        "(out, mean, invstd): batch statistics when training (updating the running ones in place), running "
        "statistics otherwise; relu=True also applies a ReLU to out in the same pass.");
  m.def("batch_norm_backward", &batch_norm_bwd, py::arg("dout"), py::arg("x"), py::arg("weight"), py::arg("mean"),
        py::arg("invstd"), py::arg("training"), py::arg("dx") = py::none(), py::arg("dweight") = py::none(),
        py::arg("dbias") = py::none(), py::arg("relu_out") = py::none(), py::arg("accumulate") = true,
        "Accumulates the input, weight and bias gradients (None skips one; accumulate=False writes them, their "
        "buffers may hold anything); relu_out, the output of a forward with relu=True, gates dout as the fused "
        "ReLU's backward would.");
  m.def("batch_norm_relu_max_pool_forward", &batch_norm_relu_max_pool_fwd, py::arg("x"), py::arg("running_mean"),
        py::arg("running_var"), py::arg("weight"), py::arg("bias"), py::arg("training"), py::arg("momentum") = 0.1,
        py::arg("eps") = 1e-5,
        "(out, window, mean, invstd): max_pool2d(relu(batch_norm(x)), 2) in one pass over x (N, C, H, W); out "
        "and window are (N, C, H/2, W/2), window (uint8) the position in each 2x2 window (row * 2 + column) the "
        "maximum came from. Statistics as batch_norm_forward.");
  m.def("batch_norm_relu_max_pool_backward", &batch_norm_relu_max_pool_bwd, py::arg("dout"), py::arg("out"),
        py::arg("window"), py::arg("x"), py::arg("weight"), py::arg("mean"), py::arg("invstd"), py::arg("training"),
        py::arg("dx") = py::none(), py::arg("dweight") = py::none(), py::arg("dbias") = py::none(),
        py::arg("accumulate") = true,
        "The gradients of batch_norm_relu_max_pool_forward, given its out and window: dout (N, C, H/2, W/2) goes "
        "to the positions window names, gated by out > 0. None skips a gradient; accumulate=False writes them "
        "(their buffers may hold anything).");
  m.def("layer_norm_forward", &layer_norm_fwd, py::arg("x"), py::arg("weight") = py::none(),
        py::arg("bias") = py::none(), py::arg("eps") = 1e-5,
        "(out, mean, rstd): each row of x (N, D) normalised by its own mean and 1/sqrt(var + eps), then scaled by "
        "weight (D) and shifted by bias (D) when given.");
  m.def("layer_norm_backward", &layer_norm_bwd, py::arg("dout"), py::arg("x"), py::arg("weight"), py::arg("mean"),
        py::arg("rstd"), py::arg("dx") = py::none(), py::arg("dweight") = py::none(), py::arg("dbias") = py::none(),
        "Accumulates the input, weight and bias gradients of layer_norm_forward (None skips one).");
}

}  // namespace nntrain::bind
