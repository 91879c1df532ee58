// Max and average pooling.
#include "bindings/bind.h"
#include "bindings/checks.h"
#include "bindings/window_args.h"
#include "pool2d.h"

namespace nntrain::bind {

namespace {

struct PoolShape {
  index_t N, C, H, W;
  Window2d win;
  Shape out() const { return {N, C, win.OH(H), win.OW(W)}; }
};

PoolShape pool_shape(const char* op, const Shape& input_shape, Pair kernel, Pair stride, Pair padding, Pair dilation,
                     bool ceil_mode) {
  if (input_shape.size() != 4)
    fail(std::string(op) + ": expected an input (N, C, H, W), got " + shape_str(input_shape));
  const Window2d win =
      pool_window_of(op, kernel, stride, padding, dilation, ceil_mode, input_shape[2], input_shape[3]);
  return {input_shape[0], input_shape[1], input_shape[2], input_shape[3], win};
}

// The input (N, C, H, W) a backward writes into.
py::array grad_input(const py::object& dx) {
  if (!py::isinstance<py::array>(dx)) fail("dx: expected a NumPy array (N, C, H, W) to accumulate into");
  return py::reinterpret_borrow<py::array>(dx);
}

py::tuple max_pool_fwd(const py::array& x, Pair kernel, Pair stride, Pair padding, Pair dilation, bool ceil_mode) {
  expect_nchw(x, "x");
  const PoolShape s = pool_shape("max_pool2d", shape_of(x), kernel, stride, padding, dilation, ceil_mode);
  return with_float_type(x, "x", [&](auto tag) -> py::tuple {
    using T = decltype(tag);
    const T* xp = in<T>(x, "x");
    auto out = empty<T>(s.out());
    auto indices = empty<std::int64_t>(s.out());
    T* op = data(out);
    std::int64_t* ip = indices.mutable_data();
    run_kernel([&] { max_pool2d_forward<T>(op, ip, xp, s.N, s.C, s.H, s.W, s.win); });
    return py::make_tuple(out, indices);
  });
}

void max_pool_bwd(const py::array& dout, const py::array& indices, const py::object& dx, Pair kernel, Pair stride,
                  Pair padding, Pair dilation, bool ceil_mode, bool accumulate) {
  const py::array d = grad_input(dx);
  const PoolShape s = pool_shape("max_pool2d", shape_of(d), kernel, stride, padding, dilation, ceil_mode);
  expect_shape(dout, "dout", s.out());
  expect_shape(indices, "indices", s.out());
  const std::int64_t* ip = in_int64(indices, "indices");
  // Indices come from the caller: one outside its plane would write out of bounds. Checked in parallel;
  // only a bad array is scanned again, to name its first bad entry.
  const index_t plane = s.H * s.W, count = index_t(indices.size());
  bool ok = true;
  run_kernel([&] { ok = pool_indices_in_range(ip, count, plane); });
  if (!ok)
    for (index_t k = 0; k < count; ++k)
      if (ip[k] < 0 || ip[k] >= plane)
        fail("indices: entry " + std::to_string(ip[k]) + " at flat position " + std::to_string(k) +
             " is outside [0, " + std::to_string(plane) + ")");
  with_float_type(dout, "dout", [&](auto tag) {
    using T = decltype(tag);
    const T* gp = in<T>(dout, "dout");
    T* dp = out_or_null<T>(dx, "dx", shape_of(d));
    run_kernel([&] { max_pool2d_backward<T>(dp, gp, ip, s.N, s.C, s.H, s.W, s.win, accumulate); });
  });
}

py::array avg_pool_fwd(const py::array& x, Pair kernel, Pair stride, Pair padding, bool count_include_pad,
                       bool ceil_mode) {
  expect_nchw(x, "x");
  const PoolShape s = pool_shape("avg_pool2d", shape_of(x), kernel, stride, padding, {1, 1}, ceil_mode);
  return with_float_type(x, "x", [&](auto tag) -> py::array {
    using T = decltype(tag);
    const T* xp = in<T>(x, "x");
    auto out = empty<T>(s.out());
    T* op = data(out);
    run_kernel([&] { avg_pool2d_forward<T>(op, xp, s.N, s.C, s.H, s.W, s.win, count_include_pad); });
    return out;
  });
}

void avg_pool_bwd(const py::array& dout, const py::object& dx, Pair kernel, Pair stride, Pair padding,
                  bool count_include_pad, bool ceil_mode, bool accumulate) {
  const py::array d = grad_input(dx);
  const PoolShape s = pool_shape("avg_pool2d", shape_of(d), kernel, stride, padding, {1, 1}, ceil_mode);
  expect_shape(dout, "dout", s.out());
  with_float_type(dout, "dout", [&](auto tag) {
    using T = decltype(tag);
    const T* gp = in<T>(dout, "dout");
    T* dp = out_or_null<T>(dx, "dx", shape_of(d));
    run_kernel([&] { avg_pool2d_backward<T>(dp, gp, s.N, s.C, s.H, s.W, s.win, count_include_pad, accumulate); });
  });
}

}  // namespace

void bind_pool(py::module_& m) {
  m.def("max_pool2d_forward", &max_pool_fwd, py::arg("x"), py::arg("kernel_size"), py::arg("stride"),
        py::arg("padding") = Pair{0, 0}, py::arg("dilation") = Pair{1, 1}, py::arg("ceil_mode") = false,
        "(out, indices): the max of each window and its flat position ih*W + iw in the input plane.");
  m.def("max_pool2d_backward", &max_pool_bwd, py::arg("dout"), py::arg("indices"), py::arg("dx"),
        py::arg("kernel_size"), py::arg("stride"), py::arg("padding") = Pair{0, 0}, py::arg("dilation") = Pair{1, 1},
        py::arg("ceil_mode") = false, py::arg("accumulate") = true,
        "dx (N, C, H, W) += dout routed to the positions in indices (accumulate=False: dx = ..., dx may hold "
        "anything).");
  m.def("avg_pool2d_forward", &avg_pool_fwd, py::arg("x"), py::arg("kernel_size"), py::arg("stride"),
        py::arg("padding") = Pair{0, 0}, py::arg("count_include_pad") = true, py::arg("ceil_mode") = false,
        "Mean of each window.");
  m.def("avg_pool2d_backward", &avg_pool_bwd, py::arg("dout"), py::arg("dx"), py::arg("kernel_size"),
        py::arg("stride"), py::arg("padding") = Pair{0, 0}, py::arg("count_include_pad") = true,
        py::arg("ceil_mode") = false, py::arg("accumulate") = true,
        "dx (N, C, H, W) += each window's dout shared equally over it (accumulate=False: dx = ..., dx may hold "
        "anything).");
}

}  // namespace nntrain::bind
