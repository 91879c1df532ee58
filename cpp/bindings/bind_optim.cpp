// Fused optimiser updates over lists of arrays, gradient norms and clipping.
//
// Every list is checked and every data pointer gathered under the GIL; then one kernel call runs the whole
// update with the GIL released. Arrays a kernel writes into must be separate buffers: the chunks of one
// call run in parallel, so two entries sharing memory would race (and differ from PyTorch's sequential
// semantics even on one thread).
#include <algorithm>
#include <cmath>

#include "bindings/bind.h"
#include "bindings/checks.h"
#include "optim_update.h"

namespace nntrain::bind {

namespace {

std::string item_name(const char* list, std::size_t i) { return std::string(list) + "[" + std::to_string(i) + "]"; }

std::string type_name(py::handle h) { return Py_TYPE(h.ptr())->tp_name; }

std::string num(double v) { return py::repr(py::float_(v)).cast<std::string>(); }

// A list argument: a list or tuple of arrays. It is copied, so the copy holds a reference to every array
// while the kernel runs without the GIL, whatever other threads do to the caller's list.
py::list as_list(const py::object& o, const char* name) {
  if (py::isinstance<py::list>(o) || py::isinstance<py::tuple>(o)) {
    PyObject* copy = PySequence_List(o.ptr());  // py::list(o) would share a list rather than copy it
    if (!copy) throw py::error_already_set();
    return py::reinterpret_steal<py::list>(copy);
  }
  fail(std::string(name) + ": expected a list of arrays, got " + type_name(o));
}

py::array array_at(const py::list& l, const char* list, std::size_t i) {
  py::handle h = l[i];
  if (!py::isinstance<py::array>(h))
    fail(item_name(list, i) + ": expected a NumPy array, got " + type_name(h));
  return py::reinterpret_borrow<py::array>(h);
}

// ---- hyper-parameters ----
void finite(const char* name, double v) {
  if (!std::isfinite(v)) fail(std::string(name) + " must be a finite number, got " + num(v));
}
void at_least(const char* name, double v, double low) {
  finite(name, v);
  if (v < low) fail(std::string(name) + " must be >= " + num(low) + ", got " + num(v));
}
void positive(const char* name, double v) {
  finite(name, v);
  if (!(v > 0)) fail(std::string(name) + " must be > 0, got " + num(v));
}
// [0, 1), or [0, 1] when `one_allowed`.
void unit_interval(const char* name, double v, bool one_allowed) {
  finite(name, v);
  if (v < 0 || v > 1 || (v == 1 && !one_allowed))
    fail(std::string(name) + " must be in [0, 1" + (one_allowed ? "]" : ")") + ", got " + num(v));
}
void step_at_least_one(std::int64_t step) {
  if (step < 1) fail("step must be >= 1, got " + std::to_string(step));
}

// The arrays of one call. The lead list (params, or the arrays of a norm) fixes the count, dtype T and
// shapes; every other list must match it entry by entry.
template <class T>
class ArrayLists {
 public:
  ArrayLists(const py::list& lead, const char* name) : lead_name_(name) {
    for (std::size_t i = 0; i < lead.size(); ++i) {
      py::array a = array_at(lead, name, i);
      if (!is_contiguous_of<T>(a)) in<T>(a, item_name(name, i).c_str());
      shapes_.push_back(shape_of(a));
      sizes_.push_back(static_cast<index_t>(a.size()));
    }
  }

  index_t count() const { return static_cast<index_t>(sizes_.size()); }
  const index_t* sizes() const { return sizes_.data(); }

  // Arrays the kernel updates in place: writeable, exact dtype and shape.
  std::vector<T*> writeable(const py::list& l, const char* name) {
    std::vector<T*> ptrs;
    for_each_checked(l, name, [&](py::array& a, const char* list, std::size_t i) {
      if (!a.writeable()) fail(item_name(list, i) + ": array is read-only");
      ptrs.push_back(static_cast<T*>(a.mutable_data()));
      add_range(written_, a, list, i);
    });
    return ptrs;
  }

  // Arrays the kernel only reads.
  std::vector<const T*> readonly(const py::list& l, const char* name) {
    std::vector<const T*> ptrs;
    for_each_checked(l, name, [&](py::array& a, const char* list, std::size_t i) {
      ptrs.push_back(static_cast<const T*>(a.data()));
      add_range(read_, a, list, i);
    });
    return ptrs;
  }

  // No written array may share memory with any other array of the call (read-only ones may share).
  void check_disjoint() {
    std::sort(written_.begin(), written_.end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
    const Range* reach = nullptr;  // the range seen so far that extends furthest
    for (const Range& r : written_) {
      if (reach && r.lo < reach->hi) share_fail(*reach, r);
      if (!reach || r.hi > reach->hi) reach = &r;
    }
    // Written ranges are now disjoint and sorted, so only the last one starting before r.hi can overlap r.
    for (const Range& r : read_) {
      auto it = std::lower_bound(written_.begin(), written_.end(), r.hi,
                                 [](const Range& w, const char* hi) { return w.lo < hi; });
      if (it != written_.begin() && std::prev(it)->hi > r.lo) share_fail(*std::prev(it), r);
    }
  }

 private:
  struct Range {
    const char* lo;
    const char* hi;
    const char* list;  // the argument, and the entry in it
    std::size_t index;
  };

  // Messages name an entry (`exp_avgs[3]`) only when one is needed: the checks run on every optimiser step.
  template <class F>
  void for_each_checked(const py::list& l, const char* name, F&& f) {
    if (static_cast<index_t>(l.size()) != count())
      fail(std::string(name) + ": expected " + std::to_string(count()) + " arrays, one per entry of " +
           lead_name_ + ", got " + std::to_string(l.size()));
    for (std::size_t i = 0; i < l.size(); ++i) {
      py::array a = array_at(l, name, i);
      if (!is_contiguous_of<T>(a)) in<T>(a, item_name(name, i).c_str());
      if (!same_shape(a, shapes_[i]))
        fail(item_name(name, i) + ": expected shape " + shape_str(shapes_[i]) + ", got " + shape_str(shape_of(a)));
      f(a, name, i);
    }
  }

  static bool same_shape(const py::array& a, const Shape& shape) {
    if (static_cast<std::size_t>(a.ndim()) != shape.size()) return false;
    for (std::size_t d = 0; d < shape.size(); ++d)
      if (a.shape(d) != shape[d]) return false;
    return true;
  }

  static void add_range(std::vector<Range>& ranges, const py::array& a, const char* list, std::size_t i) {
    if (a.size() == 0) return;
    const char* lo = static_cast<const char*>(a.data());
    ranges.push_back({lo, lo + a.nbytes(), list, i});
  }

  [[noreturn]] static void share_fail(const Range& a, const Range& b) {
    fail(item_name(a.list, a.index) + " and " + item_name(b.list, b.index) +
         " share memory; each array of an update must be a separate buffer");
  }

  const char* lead_name_;
  std::vector<Shape> shapes_;
  std::vector<index_t> sizes_;
  std::vector<Range> written_, read_;
};

// Calls f(T{}) with T the dtype of the lead list's first array (any T for an empty list: nothing runs).
template <class F>
void with_list_type(const py::list& lead, const char* name, F&& f) {
  if (lead.size() == 0) return f(double{});
  with_float_type(array_at(lead, name, 0), item_name(name, 0).c_str(), f);
}

// A state list used only under some option: None or ignored when the option is off, required when on.
py::list optional_state(const py::object& o, const char* name, bool needed, const char* when) {
  if (!needed) return py::list();
  if (o.is_none()) fail(std::string(name) + ": a list of arrays is required when " + when);
  return as_list(o, name);
}

// ---- updates ----

// An update's result for Python: the gradients' norm when the caller asked for the non-finite check
// (the update ran only if it is finite), None otherwise.
py::object norm_or_none(bool if_finite, double norm) { return if_finite ? py::object(py::float_(norm)) : py::none(); }

py::object sgd(const py::object& params_o, const py::object& grads_o, const py::object& bufs_o, double lr,
               double momentum, double dampening, double weight_decay, bool nesterov, bool first_step,
               bool if_finite) {
  at_least("lr", lr, 0);
  at_least("momentum", momentum, 0);
  unit_interval("dampening", dampening, true);
  at_least("weight_decay", weight_decay, 0);
  if (nesterov && (momentum <= 0 || dampening != 0))
    fail("nesterov requires momentum > 0 and dampening == 0, got momentum=" + num(momentum) +
         ", dampening=" + num(dampening));
  const bool use_momentum = momentum != 0;
  py::list params = as_list(params_o, "params"), grads = as_list(grads_o, "grads");
  py::list bufs = optional_state(bufs_o, "momentum_buffers", use_momentum, "momentum > 0");
  double norm = 0.0;
  with_list_type(params, "params", [&](auto tag) {
    using T = decltype(tag);
    ArrayLists<T> lists(params, "params");
    auto p = lists.writeable(params, "params");
    auto g = lists.readonly(grads, "grads");
    auto b = use_momentum ? lists.writeable(bufs, "momentum_buffers") : std::vector<T*>();
    lists.check_disjoint();
    run_kernel([&] {
      sgd_update_list<T>(p.data(), use_momentum ? b.data() : nullptr, g.data(), lists.sizes(), lists.count(), lr,
                         momentum, dampening, weight_decay, nesterov, first_step, if_finite ? &norm : nullptr);
    });
  });
  return norm_or_none(if_finite, norm);
}

py::object adagrad(const py::object& params_o, const py::object& grads_o, const py::object& sums_o, double lr,
                   double lr_decay, double weight_decay, double eps, std::int64_t step, bool if_finite) {
  at_least("lr", lr, 0);
  at_least("lr_decay", lr_decay, 0);
  at_least("weight_decay", weight_decay, 0);
  at_least("eps", eps, 0);
  step_at_least_one(step);
  py::list params = as_list(params_o, "params"), grads = as_list(grads_o, "grads");
  py::list sums = as_list(sums_o, "state_sums");
  double norm = 0.0;
  with_list_type(params, "params", [&](auto tag) {
    using T = decltype(tag);
    ArrayLists<T> lists(params, "params");
    auto p = lists.writeable(params, "params");
    auto g = lists.readonly(grads, "grads");
    auto s = lists.writeable(sums, "state_sums");
    lists.check_disjoint();
    run_kernel([&] {
      adagrad_update_list<T>(p.data(), s.data(), g.data(), lists.sizes(), lists.count(), lr, lr_decay, weight_decay,
                             eps, step, if_finite ? &norm : nullptr);
    });
  });
  return norm_or_none(if_finite, norm);
}

py::object rmsprop(const py::object& params_o, const py::object& grads_o, const py::object& square_avgs_o,
                   const py::object& bufs_o, const py::object& grad_avgs_o, double lr, double alpha, double eps,
                   double weight_decay, double momentum, bool centered, bool if_finite) {
  at_least("lr", lr, 0);
  unit_interval("alpha", alpha, true);
  at_least("eps", eps, 0);
  at_least("weight_decay", weight_decay, 0);
  at_least("momentum", momentum, 0);
  const bool use_momentum = momentum > 0;
  py::list params = as_list(params_o, "params"), grads = as_list(grads_o, "grads");
  py::list square_avgs = as_list(square_avgs_o, "square_avgs");
  py::list bufs = optional_state(bufs_o, "momentum_buffers", use_momentum, "momentum > 0");
  py::list grad_avgs = optional_state(grad_avgs_o, "grad_avgs", centered, "centered=True");
  double norm = 0.0;
  with_list_type(params, "params", [&](auto tag) {
    using T = decltype(tag);
    ArrayLists<T> lists(params, "params");
    auto p = lists.writeable(params, "params");
    auto g = lists.readonly(grads, "grads");
    auto sq = lists.writeable(square_avgs, "square_avgs");
    auto b = use_momentum ? lists.writeable(bufs, "momentum_buffers") : std::vector<T*>();
    auto ga = centered ? lists.writeable(grad_avgs, "grad_avgs") : std::vector<T*>();
    lists.check_disjoint();
    run_kernel([&] {
      rmsprop_update_list<T>(p.data(), sq.data(), use_momentum ? b.data() : nullptr, centered ? ga.data() : nullptr,
                             g.data(), lists.sizes(), lists.count(), lr, alpha, eps, weight_decay, momentum,
                             centered, if_finite ? &norm : nullptr);
    });
  });
  return norm_or_none(if_finite, norm);
}

py::object adam(const py::object& params_o, const py::object& grads_o, const py::object& exp_avgs_o,
                const py::object& exp_avg_sqs_o, double lr, double beta1, double beta2, double eps,
                double weight_decay, std::int64_t step, bool decoupled, bool if_finite) {
  at_least("lr", lr, 0);
  unit_interval("beta1", beta1, false);
  unit_interval("beta2", beta2, false);
  positive("eps", eps);
  at_least("weight_decay", weight_decay, 0);
  step_at_least_one(step);
  py::list params = as_list(params_o, "params"), grads = as_list(grads_o, "grads");
  py::list exp_avgs = as_list(exp_avgs_o, "exp_avgs"), exp_avg_sqs = as_list(exp_avg_sqs_o, "exp_avg_sqs");
  double norm = 0.0;
  with_list_type(params, "params", [&](auto tag) {
    using T = decltype(tag);
    ArrayLists<T> lists(params, "params");
    auto p = lists.writeable(params, "params");
    auto g = lists.readonly(grads, "grads");
    auto m = lists.writeable(exp_avgs, "exp_avgs");
    auto v = lists.writeable(exp_avg_sqs, "exp_avg_sqs");
    lists.check_disjoint();
    run_kernel([&] {
      adam_update_list<T>(p.data(), m.data(), v.data(), g.data(), lists.sizes(), lists.count(), lr, beta1, beta2,
                          eps, weight_decay, step, decoupled, if_finite ? &norm : nullptr);
    });
  });
  return norm_or_none(if_finite, norm);
}

// ---- norms ----

double grad_norm_py(const py::object& arrays_o) {
  py::list arrays = as_list(arrays_o, "arrays");
  double total = 0.0;
  with_list_type(arrays, "arrays", [&](auto tag) {
    using T = decltype(tag);
    ArrayLists<T> lists(arrays, "arrays");
    auto a = lists.readonly(arrays, "arrays");
    run_kernel([&] { total = grad_norm<T>(a.data(), lists.sizes(), lists.count()); });
  });
  return total;
}

py::list array_norms_py(const py::object& arrays_o) {
  py::list arrays = as_list(arrays_o, "arrays");
  std::vector<double> norms(arrays.size());
  with_list_type(arrays, "arrays", [&](auto tag) {
    using T = decltype(tag);
    ArrayLists<T> lists(arrays, "arrays");
    auto a = lists.readonly(arrays, "arrays");
    run_kernel([&] { array_norms<T>(norms.data(), a.data(), lists.sizes(), lists.count()); });
  });
  py::list out;
  for (double v : norms) out.append(v);
  return out;
}

double clip_grad_norm_py(const py::object& grads_o, double max_norm) {
  if (!(max_norm > 0)) fail("max_norm must be > 0, got " + num(max_norm));
  py::list grads = as_list(grads_o, "grads");
  double total = 0.0;
  with_list_type(grads, "grads", [&](auto tag) {
    using T = decltype(tag);
    ArrayLists<T> lists(grads, "grads");
    auto g = lists.writeable(grads, "grads");
    lists.check_disjoint();
    run_kernel([&] { total = clip_grad_norm<T>(g.data(), lists.sizes(), lists.count(), max_norm); });
  });
  return total;
}

}  // namespace

#define IF_FINITE_DOC                                                                                    \
  " With if_finite=True, returns the gradients' norm (grad_norm's value, taken in the same pass) and updates " \
  "only when it is finite: a NaN or Inf gradient leaves every array as it was."

void bind_optim(py::module_& m) {
  m.attr("OPTIM_CHUNK") = kOptimChunk;
  m.def("sgd_update", &sgd, py::arg("params"), py::arg("grads"), py::arg("momentum_buffers"), py::arg("lr"),
        py::arg("momentum"), py::arg("dampening"), py::arg("weight_decay"), py::arg("nesterov"),
        py::arg("first_step"), py::arg("if_finite") = false,
        "torch.optim.SGD's step on every array of params in place (momentum_buffers: None when momentum == 0)." IF_FINITE_DOC);
  m.def("adagrad_update", &adagrad, py::arg("params"), py::arg("grads"), py::arg("state_sums"), py::arg("lr"),
        py::arg("lr_decay"), py::arg("weight_decay"), py::arg("eps"), py::arg("step"), py::arg("if_finite") = false,
        "torch.optim.Adagrad's step number `step` on every array of params in place." IF_FINITE_DOC);
  m.def("rmsprop_update", &rmsprop, py::arg("params"), py::arg("grads"), py::arg("square_avgs"),
        py::arg("momentum_buffers"), py::arg("grad_avgs"), py::arg("lr"), py::arg("alpha"), py::arg("eps"),
        py::arg("weight_decay"), py::arg("momentum"), py::arg("centered"), py::arg("if_finite") = false,
        "torch.optim.RMSprop's step in place (momentum_buffers used when momentum > 0, grad_avgs when centered)."
        IF_FINITE_DOC);
  m.def("adam_update", &adam, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_avg_sqs"),
        py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"), py::arg("step"),
        py::arg("decoupled"), py::arg("if_finite") = false,
        "torch.optim.Adam's (AdamW's when decoupled) step number `step` in place." IF_FINITE_DOC);
  m.def("grad_norm", &grad_norm_py, py::arg("arrays"), "L2 norm of all elements of all arrays together.");
  m.def("array_norms", &array_norms_py, py::arg("arrays"), "L2 norm of each array, as a list of floats.");
  m.def("clip_grad_norm", &clip_grad_norm_py, py::arg("grads"), py::arg("max_norm"),
        "Scales grads in place by max_norm / (norm + 1e-6) when that is < 1; returns the norm before clipping.");
}
#undef IF_FINITE_DOC

}  // namespace nntrain::bind
