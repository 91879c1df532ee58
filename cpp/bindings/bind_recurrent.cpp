// The fused LSTM cell.
#include "bindings/bind.h"
#include "bindings/checks.h"
#include "lstm_cell.h"

namespace nntrain::bind {

namespace {

// gates (N, 4H) and c_prev (N, H): returns H after checking both.
index_t cell_width(const py::array& gates, const py::array& c_prev) {
  expect_ndim(gates, "gates", 2, "(batch, 4 * hidden_size)");
  if (gates.shape(1) % 4 != 0)
    fail("gates: expected (batch, 4 * hidden_size), got " + shape_str(shape_of(gates)));
  const index_t N = gates.shape(0), H = gates.shape(1) / 4;
  expect_shape(c_prev, "c_prev", {N, H});
  return H;
}

py::tuple lstm_cell_fwd(const py::array& gates, const py::array& c_prev) {
  const index_t H = cell_width(gates, c_prev), N = gates.shape(0);
  return with_float_type(gates, "gates", [&](auto tag) -> py::tuple {
    using T = decltype(tag);
    const T* zp = in<T>(gates, "gates");
    const T* cpp = in<T>(c_prev, "c_prev");
    auto h = empty<T>({N, H});
    auto c = empty<T>({N, H});
    auto act = empty<T>({N, 4 * H});
    T *hp = data(h), *cp = data(c), *ap = data(act);
    run_kernel([&] { lstm_cell_forward<T>(hp, cp, ap, zp, cpp, N, H); });
    return py::make_tuple(h, c, act);
  });
}

void lstm_cell_bwd(const py::object& dh, const py::object& dc, const py::array& act, const py::array& c_prev,
                   const py::array& c, const py::object& dgates, const py::object& dc_prev) {
  expect_ndim(act, "act", 2, "(batch, 4 * hidden_size)");
  const index_t H = cell_width(act, c_prev), N = act.shape(0);
  expect_shape(c, "c", {N, H});
  with_float_type(act, "act", [&](auto tag) {
    using T = decltype(tag);
    const T* dhp = in_or_null<T>(dh, "dh");
    const T* dcp = in_or_null<T>(dc, "dc");
    if (dhp) expect_shape(py::reinterpret_borrow<py::array>(dh), "dh", {N, H});
    if (dcp) expect_shape(py::reinterpret_borrow<py::array>(dc), "dc", {N, H});
    const T* ap = in<T>(act, "act");
    const T* cpp = in<T>(c_prev, "c_prev");
    const T* cp = in<T>(c, "c");
    T* dgp = out_or_null<T>(dgates, "dgates", {N, 4 * H});
    T* dcpp = out_or_null<T>(dc_prev, "dc_prev", {N, H});
    if (dgp == nullptr) fail("dgates: expected a NumPy array to accumulate into");
    run_kernel([&] { lstm_cell_backward<T>(dgp, dcpp, dhp, dcp, ap, cpp, cp, N, H); });
  });
}

}  // namespace

void bind_recurrent(py::module_& m) {
  m.def("lstm_cell_forward", &lstm_cell_fwd, py::arg("gates"), py::arg("c_prev"),
        "(h, c, act): one LSTM step from the gate pre-activations (N, 4H) in the order [i f g o] and the previous "
        "cell state (N, H); act holds the gates after their nonlinearities, which backward needs.");
  m.def("lstm_cell_backward", &lstm_cell_bwd, py::arg("dh"), py::arg("dc"), py::arg("act"), py::arg("c_prev"),
        py::arg("c"), py::arg("dgates"), py::arg("dc_prev") = py::none(),
        "Accumulates the gradients of the gate pre-activations and of the previous cell state (None skips it); "
        "dh or dc may be None (no gradient reached that output).");
}

}  // namespace nntrain::bind
