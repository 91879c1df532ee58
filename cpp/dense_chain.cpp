#include "dense_chain.h"

#include <algorithm>
#include <cmath>

#include "linear.h"
#include "scratch.h"

namespace nntrain {

namespace {

// NumPy's arg-max of a row: the first largest value, or the first NaN.
template <class T>
index_t arg_max(const T* row, index_t C) {
  index_t best = 0;
  for (index_t c = 1; c < C && !std::isnan(row[best]); ++c)
    if (row[c] > row[best] || std::isnan(row[c])) best = c;
  return best;
}

}  // namespace

template <class T>
DenseStepResult dense_chain_step(const std::vector<DenseOp<T>>& ops, const T* x, index_t N, index_t width,
                                 const CrossEntropyTarget<T>& target) {
  const std::size_t count = ops.size();
  // Every op's output is kept: a Linear's backward reads its input, an activation's its input or output.
  std::vector<index_t> widths(count);
  index_t w = width, widest = width, kept = 0;
  for (std::size_t i = 0; i < count; ++i) {
    w = ops[i].linear ? ops[i].out : w;
    widths[i] = w;
    widest = std::max(widest, w);
    kept += N * w;
  }
  const index_t C = w;
  T* scratch = thread_scratch<T>(kScratchDenseChain, std::size_t(kept + N * C + 2 * N * widest));
  std::vector<T*> outputs(count);
  for (std::size_t i = 0; i < count; ++i) outputs[i] = (i == 0 ? scratch : outputs[i - 1] + N * widths[i - 1]);
  T* probs = scratch + kept;
  T* grad = probs + N * C;  // two buffers: an op's output gradient and its input gradient
  T* next_grad = grad + N * widest;

  auto input_of = [&](std::size_t i) { return i == 0 ? x : static_cast<const T*>(outputs[i - 1]); };
  for (std::size_t i = 0; i < count; ++i) {
    const DenseOp<T>& op = ops[i];
    if (op.linear)
      linear_forward<T>(outputs[i], input_of(i), op.weight, op.bias, N, op.in, op.out);
    else
      activation_forward<T>(op.kind, outputs[i], input_of(i), N * widths[i], op.param);
  }

  const T* logits = outputs[count - 1];
  std::vector<double> row_loss(N);
  const double divisor = cross_entropy_divisor<T>(target, N);
  const double loss = double(T(cross_entropy_forward<T>(probs, row_loss.data(), logits, target, N, C) / divisor));
  index_t correct = 0;
  for (index_t r = 0; r < N; ++r) correct += arg_max(logits + r * C, C) == target.labels[r];
  if (!std::isfinite(loss)) return {loss, correct, false};

  // Backward stops at the first Linear: what comes before it has no parameters, and x needs no gradient.
  std::size_t first_linear = 0;
  while (!ops[first_linear].linear) ++first_linear;
  cross_entropy_backward<T>(grad, probs, target, nullptr, 1.0 / divisor, N, C, /*accumulate=*/false);
  for (std::size_t i = count; i-- > first_linear;) {
    const DenseOp<T>& op = ops[i];
    if (op.linear) {
      linear_backward<T>(i == first_linear ? nullptr : next_grad, op.dweight, op.dbias, grad, input_of(i), op.weight,
                         N, op.in, op.out, /*accumulate=*/false);
    } else {  // a new gradient, written as the recorded step's activation backward writes it
      activation_backward<T>(op.kind, next_grad, grad, input_of(i), outputs[i], N * widths[i], op.param,
                             /*accumulate=*/false);
    }
    std::swap(grad, next_grad);
  }
  return {loss, correct, true};
}

template DenseStepResult dense_chain_step<float>(const std::vector<DenseOp<float>>&, const float*, index_t, index_t,
                                                 const CrossEntropyTarget<float>&);
template DenseStepResult dense_chain_step<double>(const std::vector<DenseOp<double>>&, const double*, index_t,
                                                  index_t, const CrossEntropyTarget<double>&);

}  // namespace nntrain
