// im2col / col2im and 2-D convolution.
#include "bindings/bind.h"
#include "bindings/checks.h"
#include "bindings/window_args.h"
#include "conv2d.h"
#include "im2col.h"

namespace nntrain::bind {

namespace {

Conv2dShape conv_shape(const py::array& x, const py::array& weight, Pair stride, Pair padding, Pair dilation,
                       index_t groups) {
  expect_nchw(x, "x");
  expect_ndim(weight, "weight", 4, "(out_channels, in_channels / groups, kh, kw)");
  const index_t C = x.shape(1), OC = weight.shape(0);
  if (groups < 1) fail("groups: must be positive, got " + std::to_string(groups));
  if (C % groups != 0 || OC % groups != 0)
    fail("groups: " + std::to_string(groups) + " must divide both the input channels (" + std::to_string(C) +
         ") and the output channels (" + std::to_string(OC) + ")");
  if (weight.shape(1) * groups != C)
    fail("x, weight: x has " + std::to_string(C) + " channels but weight " + shape_str(shape_of(weight)) +
         " expects " + std::to_string(weight.shape(1) * groups) +
         (groups > 1 ? " (in_channels / groups = " + std::to_string(weight.shape(1)) + ", groups = " +
                           std::to_string(groups) + ")"
                     : std::string()));
  const index_t H = x.shape(2), W = x.shape(3);
  const Window2d win = window_of("conv2d", {index_t(weight.shape(2)), index_t(weight.shape(3))}, stride, padding,
                                 dilation, H, W);
  return {x.shape(0), C, H, W, OC, win, groups};
}

ConvAlgorithm algorithm_of(const std::string& name, const Conv2dShape& s, const py::array& x) {
  ConvAlgorithm a;
  if (name == "auto") a = ConvAlgorithm::Auto;
  else if (name == "im2col") a = ConvAlgorithm::Im2col;
  else if (name == "winograd") a = ConvAlgorithm::Winograd;
  else fail("algorithm: expected one of auto, im2col, winograd, got '" + name + "'");
  return conv2d_algorithm(s, x.itemsize(), a);  // a ValueError for winograd on a shape it cannot compute
}

// The algorithm conv2d_forward runs for these arrays with algorithm="auto": "im2col" or "winograd".
std::string conv2d_algorithm_name(const py::array& x, const py::array& weight, Pair stride, Pair padding,
                                  Pair dilation, index_t groups) {
  const Conv2dShape s = conv_shape(x, weight, stride, padding, dilation, groups);
  return conv2d_algorithm(s, x.itemsize()) == ConvAlgorithm::Winograd ? "winograd" : "im2col";
}

// conv2d_forward returns out, or (out, transformed) with return_transformed: the algorithm's transformed
// input for the backward, None when the algorithm keeps none.
py::object conv2d_fwd(const py::array& x, const py::array& weight, const py::object& bias, Pair stride, Pair padding,
                      Pair dilation, index_t groups, bool naive, const std::string& algorithm,
                      bool return_transformed) {
  const Conv2dShape s = conv_shape(x, weight, stride, padding, dilation, groups);
  const ConvAlgorithm algo = algorithm_of(algorithm, s, x);
  return with_float_type(x, "x", [&](auto tag) -> py::object {
    using T = decltype(tag);
    const T* xp = in<T>(x, "x");
    const T* wp = in<T>(weight, "weight");
    const T* bp = in_or_null<T>(bias, "bias");
    if (bp) expect_shape(py::reinterpret_borrow<py::array>(bias), "bias", {s.OC});
    auto out = empty<T>({s.N, s.OC, s.OH(), s.OW()});
    T* op = data(out);
    const index_t kept = return_transformed && !naive ? conv2d_transformed_size(s, sizeof(T), algo) : 0;
    py::object transformed = py::none();
    T* tp = nullptr;
    if (kept > 0) {
      auto t = empty<T>({kept});
      tp = data(t);
      transformed = t;
    }
    if (naive) run_kernel([&] { conv2d_forward_naive<T>(op, xp, wp, bp, s); });
    else run_kernel([&] { conv2d_forward<T>(op, tp, xp, wp, bp, s, algo); });
    if (return_transformed) return py::make_tuple(out, transformed);
    return std::move(out);
  });
}

void conv2d_bwd(const py::array& dout, const py::array& x, const py::array& weight, const py::object& dx,
                const py::object& dweight, const py::object& dbias, Pair stride, Pair padding, Pair dilation,
                index_t groups, const py::object& transformed, const std::string& algorithm, bool accumulate) {
  const Conv2dShape s = conv_shape(x, weight, stride, padding, dilation, groups);
  expect_shape(dout, "dout", {s.N, s.OC, s.OH(), s.OW()});
  const ConvAlgorithm algo = algorithm_of(algorithm, s, x);
  with_float_type(x, "x", [&](auto tag) {
    using T = decltype(tag);
    const T* gp = in<T>(dout, "dout");
    const T* xp = in<T>(x, "x");
    const T* wp = in<T>(weight, "weight");
    T* dxp = out_or_null<T>(dx, "dx", shape_of(x));
    T* dwp = out_or_null<T>(dweight, "dweight", shape_of(weight));
    T* dbp = out_or_null<T>(dbias, "dbias", {s.OC});
    const T* tp = in_or_null<T>(transformed, "transformed");
    if (tp) {
      const index_t size = conv2d_transformed_size(s, sizeof(T), algo);
      if (size == 0) fail("transformed: this layer's algorithm (im2col) keeps no transformed input; pass None");
      expect_shape(py::reinterpret_borrow<py::array>(transformed), "transformed", {size});
    }
    run_kernel([&] { conv2d_backward<T>(dxp, dwp, dbp, gp, xp, tp, wp, s, algo, accumulate); });
  });
}

py::array im2col_fwd(const py::array& img, Pair kernel, Pair stride, Pair padding, Pair dilation) {
  expect_ndim(img, "img", 3, "(C, H, W)");
  const index_t C = img.shape(0), H = img.shape(1), W = img.shape(2);
  const Window2d win = window_of("im2col", kernel, stride, padding, dilation, H, W);
  return with_float_type(img, "img", [&](auto tag) -> py::array {
    using T = decltype(tag);
    const T* ip = in<T>(img, "img");
    const index_t P = win.OH(H) * win.OW(W);
    auto col = empty<T>({C * win.KH * win.KW, P});
    T* cp = data(col);
    run_kernel([&] { im2col<T>(cp, P, ip, C, H, W, win); });
    return col;
  });
}

void col2im_bwd(const py::array& col, const py::object& img, Pair kernel, Pair stride, Pair padding, Pair dilation) {
  if (!py::isinstance<py::array>(img)) fail("img: expected a NumPy array (C, H, W) to accumulate into");
  const py::array im = py::reinterpret_borrow<py::array>(img);
  expect_ndim(im, "img", 3, "(C, H, W)");
  const index_t C = im.shape(0), H = im.shape(1), W = im.shape(2);
  const Window2d win = window_of("col2im", kernel, stride, padding, dilation, H, W);
  const index_t P = win.OH(H) * win.OW(W);
  expect_shape(col, "col", {C * win.KH * win.KW, P});
  with_float_type(col, "col", [&](auto tag) {
    using T = decltype(tag);
    const T* cp = in<T>(col, "col");
    T* ip = out_or_null<T>(img, "img", shape_of(im));
    run_kernel([&] { col2im<T>(ip, cp, P, C, H, W, win); });
  });
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def("conv2d_forward", &conv2d_fwd, py::arg("x"), py::arg("weight"), py::arg("bias") = py::none(),
        py::arg("stride") = Pair{1, 1}, py::arg("padding") = Pair{0, 0}, py::arg("dilation") = Pair{1, 1},
        py::arg("groups") = 1, py::arg("naive") = false, py::arg("algorithm") = "auto",
        py::arg("return_transformed") = false,
        "x (N, C, H, W), weight (OC, C / groups, KH, KW), bias (OC) -> (N, OC, OH, OW). naive=True runs the "
        "direct loop twin; algorithm is auto, im2col or winograd. With return_transformed, (out, transformed): "
        "the winograd algorithm's transformed input for conv2d_backward, None for im2col.");
  m.def("conv2d_backward", &conv2d_bwd, py::arg("dout"), py::arg("x"), py::arg("weight"), py::arg("dx") = py::none(),
        py::arg("dweight") = py::none(), py::arg("dbias") = py::none(), py::arg("stride") = Pair{1, 1},
        py::arg("padding") = Pair{0, 0}, py::arg("dilation") = Pair{1, 1}, py::arg("groups") = 1,
        py::arg("transformed") = py::none(), py::arg("algorithm") = "auto", py::arg("accumulate") = true,
        "Accumulates the input, weight and bias gradients into the arrays given (None skips one; accumulate=False "
        "writes them, their buffers may hold anything). transformed, from conv2d_forward(..., "
        "return_transformed=True) on the same x and weight, saves recomputing it.");
  m.def("conv2d_algorithm", &conv2d_algorithm_name, py::arg("x"), py::arg("weight"), py::arg("stride") = Pair{1, 1},
        py::arg("padding") = Pair{0, 0}, py::arg("dilation") = Pair{1, 1}, py::arg("groups") = 1,
        "The algorithm conv2d_forward(..., algorithm='auto') runs for these arrays: 'im2col' or 'winograd'.");
  m.def("im2col", &im2col_fwd, py::arg("img"), py::arg("kernel_size"), py::arg("stride") = Pair{1, 1},
        py::arg("padding") = Pair{0, 0}, py::arg("dilation") = Pair{1, 1},
        "Column matrix (C*KH*KW, OH*OW) of one image (C, H, W).");
  m.def("col2im", &col2im_bwd, py::arg("col"), py::arg("img"), py::arg("kernel_size"), py::arg("stride") = Pair{1, 1},
        py::arg("padding") = Pair{0, 0}, py::arg("dilation") = Pair{1, 1},
        "img (C, H, W) += the adjoint of im2col applied to col.");
}

}  // namespace nntrain::bind
