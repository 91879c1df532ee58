// Fused softmax-cross-entropy and mean squared error.
#include <cmath>

#include "bindings/bind.h"
#include "bindings/checks.h"
#include "loss.h"

namespace nntrain::bind {

namespace {

// The target of a cross-entropy: int64 labels (N,) in [0, C), or float rows (N, C) of the logits' dtype.
template <class T>
struct Target {
  const std::int64_t* labels = nullptr;
  const T* probs = nullptr;
};

template <class T>
Target<T> target_of(const py::array& target, index_t N, index_t C) {
  Target<T> t;
  if (target.dtype().kind() == 'i') {
    if (target.ndim() != 1 || target.shape(0) != N)
      fail("target: expected labels of shape " + shape_str({N}) + ", got " + shape_str(shape_of(target)));
    t.labels = in_int64(target, "target");
    for (index_t i = 0; i < N; ++i)
      if (t.labels[i] < 0 || t.labels[i] >= C)
        fail("target: label " + std::to_string(t.labels[i]) + " at index " + std::to_string(i) + " is outside [0, " +
             std::to_string(C) + ")");
  } else {
    t.probs = in<T>(target, "target");
    if (shape_of(target) != Shape{N, C})
      fail("target: expected integer labels " + shape_str({N}) + " or probabilities " + shape_str({N, C}) + ", got " +
           shape_str(shape_of(target)));
  }
  return t;
}

void check_smoothing(double ls) {
  if (!(ls >= 0.0 && ls <= 1.0)) fail("label_smoothing: must be in [0, 1], got " + std::to_string(ls));
}

py::tuple cross_entropy_fwd(const py::array& logits, const py::array& target, double label_smoothing) {
  check_smoothing(label_smoothing);
  expect_ndim(logits, "logits", 2, "(batch, classes)");
  const index_t N = logits.shape(0), C = logits.shape(1);
  if (C == 0) fail("logits: need at least one class, got shape " + shape_str(shape_of(logits)));
  return with_float_type(logits, "logits", [&](auto tag) -> py::tuple {
    using T = decltype(tag);
    const T* lp = in<T>(logits, "logits");
    const Target<T> t = target_of<T>(target, N, C);
    auto probs = empty<T>({N, C});
    T* pp = data(probs);
    double loss = 0;
    run_kernel([&] { loss = cross_entropy_forward<T>(pp, lp, t.labels, t.probs, N, C, label_smoothing); });
    return py::make_tuple(loss, probs);
  });
}

void cross_entropy_bwd(const py::array& probs, const py::array& target, const py::object& dlogits,
                       double label_smoothing, double grad) {
  check_smoothing(label_smoothing);
  expect_ndim(probs, "probs", 2, "(batch, classes)");
  const index_t N = probs.shape(0), C = probs.shape(1);
  with_float_type(probs, "probs", [&](auto tag) {
    using T = decltype(tag);
    const T* pp = in<T>(probs, "probs");
    const Target<T> t = target_of<T>(target, N, C);
    T* dp = out_or_null<T>(dlogits, "dlogits", {N, C});
    if (dp == nullptr) fail("dlogits: expected a NumPy array to accumulate into");
    run_kernel([&] { cross_entropy_backward<T>(dp, pp, t.labels, t.probs, N, C, label_smoothing, grad); });
  });
}

double mse_fwd(const py::array& pred, const py::array& target) {
  expect_same_shape(target, "target", pred, "pred");
  return with_float_type(pred, "pred", [&](auto tag) -> double {
    using T = decltype(tag);
    const T* pp = in<T>(pred, "pred");
    const T* tp = in<T>(target, "target");
    double loss = 0;
    run_kernel([&] { loss = mse_forward<T>(pp, tp, pred.size()); });
    return loss;
  });
}

void mse_bwd(const py::array& pred, const py::array& target, const py::object& dpred, double grad) {
  expect_same_shape(target, "target", pred, "pred");
  with_float_type(pred, "pred", [&](auto tag) {
    using T = decltype(tag);
    const T* pp = in<T>(pred, "pred");
    const T* tp = in<T>(target, "target");
    T* dp = out_or_null<T>(dpred, "dpred", shape_of(pred));
    if (dp == nullptr) fail("dpred: expected a NumPy array to accumulate into");
    run_kernel([&] { mse_backward<T>(dp, pp, tp, pred.size(), grad); });
  });
}

}  // namespace

void bind_loss(py::module_& m) {
  m.def("cross_entropy_forward", &cross_entropy_fwd, py::arg("logits"), py::arg("target"),
        py::arg("label_smoothing") = 0.0,
        "Mean softmax-cross-entropy of logits (N, C) against int64 labels (N,) or probabilities (N, C): "
        "(loss, softmax(logits)).");
  m.def("cross_entropy_backward", &cross_entropy_bwd, py::arg("probs"), py::arg("target"), py::arg("dlogits"),
        py::arg("label_smoothing") = 0.0, py::arg("grad") = 1.0,
        "dlogits += grad / N * (probs - smoothed target).");
  m.def("mse_forward", &mse_fwd, py::arg("pred"), py::arg("target"), "mean((pred - target)^2).");
  m.def("mse_backward", &mse_bwd, py::arg("pred"), py::arg("target"), py::arg("dpred"), py::arg("grad") = 1.0,
        "dpred += grad * 2 / n * (pred - target).");
}

}  // namespace nntrain::bind
