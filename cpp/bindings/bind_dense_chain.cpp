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
    std::vector<py::array_t<T>> dweights, dbiases;
    py::list dbias_list;
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
      const std::string wname = nth("weights", linears), bname = nth("biases", linears);
      if (!py::isinstance<py::array>(weights[linears])) fail(wname + ": expected a NumPy array");
      const py::array weight = weights[linears].cast<py::array>();
      op.linear = true;
      op.weight = in<T>(weight, wname.c_str());
      expect_ndim(weight, wname.c_str(), 2, "(out_features, in_features)");
      if (weight.shape(1) != w)
        fail(wname + ": expects " + std::to_string(weight.shape(1)) + " features but gets " + std::to_string(w));
      op.in = w;
      op.out = w = weight.shape(0);
      const py::object bias = biases[linears];
      op.bias = in_or_null<T>(bias, bname.c_str());
      if (op.bias) expect_shape(py::reinterpret_borrow<py::array>(bias), bname.c_str(), {op.out});
      dweights.push_back(empty<T>({op.out, op.in}));
      op.dweight = data(dweights.back());
      if (op.bias) {
        dbiases.push_back(empty<T>({op.out}));
        op.dbias = data(dbiases.back());
        dbias_list.append(dbiases.back());
      } else {
        dbias_list.append(py::none());
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
    return py::make_tuple(result.loss, result.correct, py::cast(dweights), dbias_list);
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
