// Fused softmax-cross-entropy and mean squared error.
#include <cmath>

#include "bindings/bind.h"
#include "bindings/checks.h"
#include "bindings/loss_args.h"
#include "loss.h"

namespace nntrain::bind {

namespace {

enum class Reduction { Mean, Sum, None };

Reduction reduction_of(const std::string& r) {
  if (r == "mean") return Reduction::Mean;
  if (r == "sum") return Reduction::Sum;
  if (r == "none") return Reduction::None;
  fail("reduction: expected 'mean', 'sum' or 'none', got '" + r + "'");
}

// (loss, probs): loss a float for 'mean' and 'sum', the row losses (N,) in the logits' dtype for 'none'.
py::tuple cross_entropy_fwd(const py::array& logits, const py::array& target, double label_smoothing,
                            const py::object& weight, std::int64_t ignore_index, const std::string& reduction) {
  const Reduction r = reduction_of(reduction);
  expect_ndim(logits, "logits", 2, "(batch, classes)");
  const index_t N = logits.shape(0), C = logits.shape(1);
  if (C == 0) fail("logits: need at least one class, got shape " + shape_str(shape_of(logits)));
  return with_float_type(logits, "logits", [&](auto tag) -> py::tuple {
    using T = decltype(tag);
    const T* lp = in<T>(logits, "logits");
    const CrossEntropyTarget<T> t = target_of<T>(target, weight, ignore_index, label_smoothing, N, C);
    auto probs = empty<T>({N, C});
    auto row_loss = empty<double>({N});
    T* pp = data(probs);
    double* rp = data(row_loss);
    double total = 0, divisor = 1;
    run_kernel([&] {
      total = cross_entropy_forward<T>(pp, rp, lp, t, N, C);
      if (r == Reduction::Mean) divisor = cross_entropy_divisor<T>(t, N);
    });
    if (r == Reduction::None) return py::make_tuple(row_loss.attr("astype")(py::dtype::of<T>()), probs);
    // The mean over no samples (or only ignored ones) is 0/0, NaN, as PyTorch answers.
    return py::make_tuple(r == Reduction::Mean ? total / divisor : total, probs);
  });
}

py::object cross_entropy_bwd(const py::array& probs, const py::array& target, const py::object& dlogits,
                             double label_smoothing, const py::object& grad, const py::object& weight,
                             std::int64_t ignore_index, const std::string& reduction) {
  const Reduction r = reduction_of(reduction);
  expect_ndim(probs, "probs", 2, "(batch, classes)");
  const index_t N = probs.shape(0), C = probs.shape(1);
  return with_float_type(probs, "probs", [&](auto tag) -> py::object {
    using T = decltype(tag);
    const T* pp = in<T>(probs, "probs");
    const CrossEntropyTarget<T> t = target_of<T>(target, weight, ignore_index, label_smoothing, N, C);
    const GradArg out = grad_or_new<T>(dlogits, {N, C});
    T* dp = out_or_null<T>(out.array, "dlogits", {N, C});
    const T* row_grad = nullptr;
    double g = 0;
    if (r == Reduction::None) {
      if (!py::isinstance<py::array>(grad)) fail("grad: reduction='none' needs one gradient per row, an array (N,)");
      row_grad = in<T>(py::reinterpret_borrow<py::array>(grad), "grad");
      expect_shape(py::reinterpret_borrow<py::array>(grad), "grad", {N});
    } else {
      g = grad.cast<double>();
    }
    run_kernel([&] {
      const double scale = r == Reduction::Mean ? g / cross_entropy_divisor<T>(t, N) : g;
      cross_entropy_backward<T>(dp, pp, t, row_grad, scale, N, C, out.accumulate);
    });
    return out.array;
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

py::object mse_bwd(const py::array& pred, const py::array& target, const py::object& dpred, double grad) {
  expect_same_shape(target, "target", pred, "pred");
  return with_float_type(pred, "pred", [&](auto tag) -> py::object {
    using T = decltype(tag);
    const T* pp = in<T>(pred, "pred");
    const T* tp = in<T>(target, "target");
    const GradArg out = grad_or_new<T>(dpred, shape_of(pred));
    T* dp = out_or_null<T>(out.array, "dpred", shape_of(pred));
    run_kernel([&] { mse_backward<T>(dp, pp, tp, pred.size(), grad, out.accumulate); });
    return out.array;
  });
}

}  // namespace

void bind_loss(py::module_& m) {
  m.def("cross_entropy_forward", &cross_entropy_fwd, py::arg("logits"), py::arg("target"),
        py::arg("label_smoothing") = 0.0, py::arg("weight") = py::none(), py::arg("ignore_index") = -100,
        py::arg("reduction") = "mean",
        "Softmax-cross-entropy of logits (N, C) against int64 labels (N,) or probabilities (N, C), with optional "
        "class weights (C,) and an ignored label: (loss, softmax(logits)); the loss is the weighted mean, the "
        "sum, or the row losses (N,) for reduction='none'.");
  m.def("cross_entropy_backward", &cross_entropy_bwd, py::arg("probs"), py::arg("target"), py::arg("dlogits"),
        py::arg("label_smoothing") = 0.0, py::arg("grad") = 1.0, py::arg("weight") = py::none(),
        py::arg("ignore_index") = -100, py::arg("reduction") = "mean",
        "dlogits += d(grad * loss)/dlogits and returns dlogits; with dlogits=None, a new array of it. grad is a "
        "number, or an array (N,) for reduction='none'.");
  m.def("mse_forward", &mse_fwd, py::arg("pred"), py::arg("target"), "mean((pred - target)^2).");
  m.def("mse_backward", &mse_bwd, py::arg("pred"), py::arg("target"), py::arg("dpred"), py::arg("grad") = 1.0,
        "dpred += grad * 2 / n * (pred - target) and returns dpred; with dpred=None, a new array of it.");
}

}  // namespace nntrain::bind
