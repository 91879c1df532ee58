// The target of a cross-entropy as Python passes it, checked against N rows of C classes.
#pragma once

#include <string>

#include "bindings/checks.h"
#include "loss.h"

namespace nntrain::bind {

// The target of a cross-entropy: int64 labels (N,), each in [0, C) or ignore_index, or float rows (N, C)
// of the logits' dtype; class weights (C,) or None.
template <class T>
CrossEntropyTarget<T> target_of(const py::array& target, const py::object& weight, std::int64_t ignore_index,
                                double label_smoothing, index_t N, index_t C) {
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
    fail("label_smoothing: must be in [0, 1], got " + std::to_string(label_smoothing));
  CrossEntropyTarget<T> t;
  t.ignore_index = ignore_index;
  t.label_smoothing = label_smoothing;
  t.class_weight = in_or_null<T>(weight, "weight");
  if (t.class_weight) expect_shape(py::reinterpret_borrow<py::array>(weight), "weight", {C});
  if (target.dtype().kind() == 'i') {
    if (target.ndim() != 1 || target.shape(0) != N)
      fail("target: expected labels of shape " + shape_str({N}) + ", got " + shape_str(shape_of(target)));
    t.labels = in_int64(target, "target");
    for (index_t i = 0; i < N; ++i)
      if ((t.labels[i] < 0 || t.labels[i] >= C) && t.labels[i] != ignore_index)
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

}  // namespace nntrain::bind
