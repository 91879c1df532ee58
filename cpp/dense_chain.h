// The training step of a dense chain -- Linear layers and elementwise activations in any order -- under
// mean softmax-cross-entropy against integer labels, in one call: forward, the loss, the number of rows whose
// largest logit is their label, and, when the loss is finite, backward, writing every weight's and bias's
// gradient.
//
// This is nntrain/step_plan.py's planned step below Python: the kernels the layers' Functions call, with the
// same arguments in the order the autograd engine calls them, so the gradients are the recorded step's to the
// last bit. What it saves is a Python round trip per kernel and the Python between them.
#pragma once

#include <vector>

#include "activation.h"
#include "common.h"
#include "loss.h"

namespace nntrain {

template <class T>
struct DenseOp {
  bool linear = false;
  // A Linear: weight (out, in), bias (out) or null; backward writes dweight (out, in) and, with a bias,
  // dbias (out).
  const T* weight = nullptr;
  const T* bias = nullptr;
  T* dweight = nullptr;
  T* dbias = nullptr;
  index_t in = 0, out = 0;
  // An activation, on whatever width reaches it.
  Activation kind = Activation::Relu;
  double param = 0.0;
};

struct DenseStepResult {
  double loss;      // the mean cross-entropy, rounded to T as the recorded step reports it
  index_t correct;  // rows whose first largest logit (NumPy's arg-max: a NaN counts as largest) is the label
  bool backward;    // whether the gradients were written: only when the loss is finite
};

// x (N, width); target.labels (N,), no class weights or probability rows. The ops' widths chain (the first
// Linear's `in` is `width`, each later one's the previous one's `out`) and at least one op is a Linear: the
// caller checks both.
template <class T>
DenseStepResult dense_chain_step(const std::vector<DenseOp<T>>& ops, const T* x, index_t N, index_t width,
                                 const CrossEntropyTarget<T>& target);

}  // namespace nntrain
