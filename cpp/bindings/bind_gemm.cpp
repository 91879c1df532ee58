// GEMM, matmul and the Linear layer.
#include "bindings/bind.h"
#include "bindings/checks.h"
#include "dispatch.h"
#include "gemm.h"
#include "gemm_tuning.h"
#include "linear.h"

namespace nntrain::bind {

namespace {

struct GemmShape {
  index_t M, N, K;
};

GemmShape gemm_shape(const py::array& a, const py::array& b, bool trans_a, bool trans_b) {
  expect_ndim(a, "a", 2, "(matrix)");
  expect_ndim(b, "b", 2, "(matrix)");
  const index_t M = trans_a ? a.shape(1) : a.shape(0), Ka = trans_a ? a.shape(0) : a.shape(1);
  const index_t Kb = trans_b ? b.shape(1) : b.shape(0), N = trans_b ? b.shape(0) : b.shape(1);
  if (Ka != Kb)
    fail("a, b: inner dimensions do not match: op(a) is " + shape_str({M, Ka}) + " and op(b) is " +
         shape_str({Kb, N}));
  return {M, N, Ka};
}

GemmOrientation parse_orientation(const std::string& s) {
  if (s == "auto") return GemmOrientation::Auto;
  if (s == "as_given") return GemmOrientation::AsGiven;
  if (s == "transposed") return GemmOrientation::Transposed;
  fail("orientation: expected 'auto', 'as_given' or 'transposed', got '" + s + "'");
}

GemmSplit parse_split(const std::string& s) {
  if (s == "auto") return GemmSplit::Auto;
  if (s == "rows") return GemmSplit::Rows;
  if (s == "cols") return GemmSplit::Cols;
  fail("split: expected 'auto', 'rows' or 'cols', got '" + s + "'");
}

BiasAlong parse_bias_along(const std::string& s) {
  if (s == "rows") return BiasAlong::Rows;
  if (s == "cols") return BiasAlong::Cols;
  if (s == "none") return BiasAlong::None;
  fail("bias_along: expected 'rows', 'cols' or 'none', got '" + s + "'");
}

void gemm_into(const py::object& c, const py::array& a, const py::array& b, bool trans_a, bool trans_b,
               double alpha, double beta, const py::object& bias, const std::string& bias_along, bool naive,
               const std::string& orientation, const std::string& split) {
  const GemmShape s = gemm_shape(a, b, trans_a, trans_b);
  const BiasAlong along = parse_bias_along(bias_along);
  const GemmOrientation way = parse_orientation(orientation);
  const GemmSplit share = parse_split(split);
  with_float_type(a, "a", [&](auto tag) {
    using T = decltype(tag);
    index_t lda, ldb, ldc;
    const T* ap = in_rows<T>(a, "a", &lda);
    const T* bp = in_rows<T>(b, "b", &ldb);
    if (!py::isinstance<py::array>(c)) fail("c: expected a NumPy array to write into");
    auto ca = py::reinterpret_borrow<py::array>(c);
    if (ca.ndim() != 2) fail("c: expected a 2-D array");
    in_rows<T>(ca, "c", &ldc);
    if (!ca.writeable()) fail("c: array is read-only");
    if (shape_of(ca) != Shape{s.M, s.N})
      fail("c: expected shape " + shape_str({s.M, s.N}) + ", got " + shape_str(shape_of(ca)));
    T* cp = static_cast<T*>(ca.mutable_data());
    const T* biasp = in_or_null<T>(bias, "bias");
    if (biasp != nullptr) {
      if (along == BiasAlong::None) fail("bias: give bias_along='rows' or 'cols' with a bias");
      expect_shape(py::reinterpret_borrow<py::array>(bias), "bias", {along == BiasAlong::Rows ? s.M : s.N});
    }
    run_kernel([&] {
      if (naive) gemm_naive<T>(cp, ldc, ap, lda, bp, ldb, s.M, s.N, s.K, trans_a, trans_b, T(alpha), T(beta), biasp, along);
      else gemm<T>(cp, ldc, ap, lda, bp, ldb, s.M, s.N, s.K, trans_a, trans_b, T(alpha), T(beta), biasp, along, way,
                   share);
    });
  });
}

py::array matmul(const py::array& a, const py::array& b, bool trans_a, bool trans_b) {
  const GemmShape s = gemm_shape(a, b, trans_a, trans_b);
  return with_float_type(a, "a", [&](auto tag) -> py::array {
    using T = decltype(tag);
    index_t lda, ldb;
    const T* ap = in_rows<T>(a, "a", &lda);
    const T* bp = in_rows<T>(b, "b", &ldb);
    auto c = empty<T>({s.M, s.N});
    T* cp = data(c);
    run_kernel([&] { gemm<T>(cp, s.N, ap, lda, bp, ldb, s.M, s.N, s.K, trans_a, trans_b, T(1), T(0)); });
    return c;
  });
}

// How gemm would compute a product (strategy, orientation, blocks): for tests and the benchmark notes.
py::dict gemm_plan_of(index_t M, index_t N, index_t K, bool trans_a, bool trans_b, const std::string& dtype,
                      const std::string& orientation, const std::string& split) {
  const GemmOrientation way = parse_orientation(orientation);
  const GemmSplit share = parse_split(split);
  if (dtype != "float32" && dtype != "float64") fail("dtype: expected 'float32' or 'float64', got '" + dtype + "'");
  auto describe = [&](auto plan) {
    py::dict d;
    d["strategy"] = gemm_strategy_name(plan.strategy);
    d["transposed"] = plan.transposed;
    d["k_parts"] = plan.k_parts;
    d["dot"] = plan.dot;
    d["mr"] = plan.mr;
    d["nr"] = plan.nr;
    d["mc"] = plan.mc;
    d["kc"] = plan.kc;
    d["nc"] = plan.nc;
    d["edge_mr"] = plan.edge_mr;
    d["row_panels"] = py::make_tuple(plan.mr_panels, plan.edge_panels);
    d["split_rows"] = plan.split_rows;
    return d;
  };
  return dtype == "float32" ? describe(gemm_plan<float>(M, N, K, trans_a, trans_b, way, share))
                             : describe(gemm_plan<double>(M, N, K, trans_a, trans_b, way, share));
}

struct LinearShape {
  index_t N, IN, OUT;
};

LinearShape linear_shape(const py::array& x, const py::array& weight) {
  expect_ndim(x, "x", 2, "(batch, in_features)");
  expect_ndim(weight, "weight", 2, "(out_features, in_features)");
  if (x.shape(1) != weight.shape(1))
    fail("x, weight: x has " + std::to_string(x.shape(1)) + " features but weight " +
         shape_str(shape_of(weight)) + " expects " + std::to_string(weight.shape(1)));
  return {x.shape(0), x.shape(1), weight.shape(0)};
}

py::array linear_fwd(const py::array& x, const py::array& weight, const py::object& bias) {
  const LinearShape s = linear_shape(x, weight);
  return with_float_type(x, "x", [&](auto tag) -> py::array {
    using T = decltype(tag);
    const T* xp = in<T>(x, "x");
    const T* wp = in<T>(weight, "weight");
    const T* bp = in_or_null<T>(bias, "bias");
    if (bp) expect_shape(py::reinterpret_borrow<py::array>(bias), "bias", {s.OUT});
    auto out = empty<T>({s.N, s.OUT});
    T* op = data(out);
    run_kernel([&] { linear_forward<T>(op, xp, wp, bp, s.N, s.IN, s.OUT); });
    return out;
  });
}

void linear_bwd(const py::array& dout, const py::array& x, const py::array& weight, const py::object& dx,
                const py::object& dweight, const py::object& dbias, bool accumulate) {
  const LinearShape s = linear_shape(x, weight);
  expect_shape(dout, "dout", {s.N, s.OUT});
  with_float_type(x, "x", [&](auto tag) {
    using T = decltype(tag);
    const T* dop = in<T>(dout, "dout");
    const T* xp = in<T>(x, "x");
    const T* wp = in<T>(weight, "weight");
    T* dxp = out_or_null<T>(dx, "dx", {s.N, s.IN});
    T* dwp = out_or_null<T>(dweight, "dweight", {s.OUT, s.IN});
    T* dbp = out_or_null<T>(dbias, "dbias", {s.OUT});
    run_kernel([&] { linear_backward<T>(dxp, dwp, dbp, dop, xp, wp, s.N, s.IN, s.OUT, accumulate); });
  });
}

}  // namespace

void bind_gemm(py::module_& m) {
  m.def("gemm", &gemm_into, py::arg("c"), py::arg("a"), py::arg("b"), py::arg("trans_a") = false,
        py::arg("trans_b") = false, py::arg("alpha") = 1.0, py::arg("beta") = 0.0, py::arg("bias") = py::none(),
        py::arg("bias_along") = "none", py::arg("naive") = false, py::arg("orientation") = "auto",
        py::arg("split") = "auto",
        "c := beta*c + alpha*op(a)@op(b) [+ bias along 'rows' or 'cols'], in place. a, b and c may be column "
        "slices of wider arrays (rows contiguous). naive=True runs the triple-loop twin. orientation "
        "'as_given' or 'transposed' forces the way round a product by panels or blocks is computed "
        "(the same bits either way; for tests and benchmarks). split 'rows' or 'cols' asks the threads to "
        "divide that dimension of c into contiguous shares (the same bits any way).");
  m.def("ukernel_peak_gflops", [] {
    py::gil_scoped_release nogil;
    return ukernel_peak_gflops();
  }, "GFLOP/s of the float32 microkernel on one thread with its panels in L1: the ceiling GEMM rates are shares of.");
  m.def("gemm_plan", &gemm_plan_of, py::arg("m"), py::arg("n"), py::arg("k"), py::arg("trans_a") = false,
        py::arg("trans_b") = false, py::arg("dtype") = "float32", py::arg("orientation") = "auto",
        py::arg("split") = "auto",
        "How gemm computes an (m, n, k) product with the current ISA and thread count: strategy "
        "('panels', 'blocked', 'split_k', 'dot'), whether it runs transposed, K parts, whether the dot kernel "
        "computes them, register tile, cache blocks, and (panels) the row panels: (mr-row, edge_mr-row) counts, and "
        "whether the threads share them out (split_rows) rather than the column panels.");
  m.def("gemm_tuning", [] {
    py::list out;
    for (const OrientationRecord& r : orientation_records()) {
      py::dict d;
      d["shape"] = py::make_tuple(r.key.M, r.key.N, r.key.K);
      d["trans"] = py::make_tuple(r.key.trans_a, r.key.trans_b);
      d["threads"] = r.key.threads;
      d["dtype"] = r.key.element_bytes == 4 ? "float32" : "float64";
      d["isa"] = isa_name(static_cast<Isa>(r.key.isa));
      d["model"] = r.model_transposed ? "transposed" : "as_given";
      d["best_seconds"] = py::make_tuple(r.best_seconds[0], r.best_seconds[1]);
      d["settled"] = r.settled < 0 ? py::object(py::none()) : py::str(r.settled ? "transposed" : "as_given");
      out.append(d);
    }
    return out;
  }, "Products of at least 2^25 multiply-adds whose way round gemm settles by timing their first calls: shape, "
     "(trans_a, trans_b), threads, dtype, isa, the cost rule's way ('model'), the fastest call each way "
     "(as_given, transposed; 0 before any) and the settled way (None while trials are open).");
  m.attr("GEMM_TUNING_CALLS") = kTuningCalls;
  m.def("_gemm_tuning_record", [](index_t M, index_t N, index_t K, bool trans_a, bool trans_b, bool transposed,
                                  double seconds) {
    record_orientation_seconds(gemm_shape_key<float>(M, N, K, trans_a, trans_b), transposed, seconds);
  }, "Tests only: reports a float32 trial's seconds as gemm would, to check the choice the timings settle.");
  m.def("gemm_tuning_clear", &clear_orientation_records, "Forgets every timed product (their trials start again).");
  m.def("matmul", &matmul, py::arg("a"), py::arg("b"), py::arg("trans_a") = false, py::arg("trans_b") = false,
        "op(a) @ op(b) as a new array (a and b may be column slices of wider arrays).");
  m.def("linear_forward", &linear_fwd, py::arg("x"), py::arg("weight"), py::arg("bias") = py::none(),
        "x (N, IN), weight (OUT, IN), bias (OUT) -> x @ weight.T + bias (N, OUT).");
  m.def("linear_backward", &linear_bwd, py::arg("dout"), py::arg("x"), py::arg("weight"),
        py::arg("dx") = py::none(), py::arg("dweight") = py::none(), py::arg("dbias") = py::none(),
        py::arg("accumulate") = true,
        "Accumulates dx += dout @ weight, dweight += dout.T @ x, dbias += dout.sum(0) into the given arrays; "
        "accumulate=False writes them (=) instead, so fresh arrays need no zero-fill.");
}

}  // namespace nntrain::bind
