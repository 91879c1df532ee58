// The training step of a dense chain (Linear layers and activations under cross-entropy) in one call.
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings/activation_args.h"
#include "bindings/bind.h"
#include "bindings/checks.h"
#include "bindings/loss_args.h"
#include "dense_chain.h"

namespace nntrain::bind {

namespace {

std::string nth(const char* name, std::size_t i) { return std::string(name) + "[" + std::to_string(i) + "]"; }

// (loss, correct, dweights, dbiases); the gradient lists are None when the loss is not finite.
py::tuple dense_chain_step_of(const py::array& x, const py::array& target, const py::list& ops,
                              const py::list& weights, const py::list& biases, double label_smoothing,
                              std::int64_t ignore_index) {
  expect_ndim(x, "x", 2, "(batch, features)");
  if (weights.size() != biases.size())
    fail("weights, biases: one bias (or None) per weight, got " + std::to_string(weights.size()) + " weights and " +
         std::to_string(biases.size()) + " biases");
  return with_float_type(x, "x", [&](auto tag) -> py::tuple {
    using T = decltype(tag);
    const index_t N = x.shape(0);
    std::vector<DenseOp<T>> chain;
    py::list dweights, dbiases;  // new arrays, written by backward
    index_t w = x.shape(1);
    std::size_t linears = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      std::pair<std::string, double> spec;
      try {
        spec = ops[i].cast<std::pair<std::string, double>>();
      } catch (const py::cast_error&) {
        fail(nth("ops", i) + ": expected a (kind, parameter) pair, got " + std::string(py::repr(ops[i])));
      }
      DenseOp<T> op;
      if (spec.first != "linear") {
        op.kind = activation_of(spec.first);
        op.param = spec.second;
        chain.push_back(op);
        continue;
      }
      if (linears == weights.size())
        fail("ops: " + std::to_string(linears + 1) + " or more Linear ops but " + std::to_string(weights.size()) +
             " weights");
      // (the names are built only for a message: this runs every training step)
      if (!py::isinstance<py::array>(weights[linears])) fail(nth("weights", linears) + ": expected a NumPy array");
      const py::array weight = weights[linears].cast<py::array>();
      if (!is_contiguous_of<T>(weight)) in<T>(weight, nth("weights", linears).c_str());
      if (weight.ndim() != 2) expect_ndim(weight, nth("weights", linears).c_str(), 2, "(out_features, in_features)");
      if (weight.shape(1) != w)
        fail(nth("weights", linears) + ": expects " + std::to_string(weight.shape(1)) + " features but gets " +
             std::to_string(w));
      op.linear = true;
      op.weight = static_cast<const T*>(weight.data());
      op.in = w;
      op.out = w = weight.shape(0);
      const py::object bias = biases[linears];
      if (!bias.is_none()) {
        if (!py::isinstance<py::array>(bias) || !is_contiguous_of<T>(py::reinterpret_borrow<py::array>(bias)))
          in_or_null<T>(bias, nth("biases", linears).c_str());
        const py::array b = py::reinterpret_borrow<py::array>(bias);
        if (b.ndim() != 1 || b.shape(0) != op.out) expect_shape(b, nth("biases", linears).c_str(), {op.out});
        op.bias = static_cast<const T*>(b.data());
      }
      auto dweight = empty<T>({op.out, op.in});
      op.dweight = data(dweight);
      dweights.append(dweight);
      if (op.bias) {
        auto dbias = empty<T>({op.out});
        op.dbias = data(dbias);
        dbiases.append(dbias);
      } else {
        dbiases.append(py::none());
      }
      chain.push_back(op);
      ++linears;
    }
    if (linears == 0) fail("ops: the chain needs at least one 'linear'");
    if (linears != weights.size())
      fail("weights: " + std::to_string(weights.size()) + " weights but " + std::to_string(linears) + " Linear ops");
    if (w == 0) fail("ops: the last Linear has no outputs (classes)");
    if (target.dtype().kind() != 'i') fail("target: expected int64 class labels, got " + dtype_name(target));
    const CrossEntropyTarget<T> t = target_of<T>(target, py::none(), ignore_index, label_smoothing, N, w);
    const T* xp = in<T>(x, "x");
    DenseStepResult result{};
    run_kernel([&] { result = dense_chain_step<T>(chain, xp, N, x.shape(1), t); });
    if (!result.backward) return py::make_tuple(result.loss, result.correct, py::none(), py::none());
    return py::make_tuple(result.loss, result.correct, dweights, dbiases);
  });
}

}  // namespace

void bind_dense_chain(py::module_& m) {
  m.def("dense_chain_step", &dense_chain_step_of, py::arg("x"), py::arg("target"), py::arg("ops"),
        py::arg("weights"), py::arg("biases"), py::arg("label_smoothing") = 0.0, py::arg("ignore_index") = -100,
        "One training step of a chain of Linear layers and activations under mean cross-entropy: x (N, features), "
        "int64 labels (N,), ops a list of ('linear', 0.0) or (activation kind, its parameter), one weight (out, in) "
        "and one bias (out,) or None per Linear. Returns (loss, correct, dweights, dbiases): the mean loss in x's "
        "dtype, the rows whose arg-max logit is their label, and new gradient arrays, written only when the loss "
        "is finite (None otherwise).");
}

}  // namespace nntrain::bind
