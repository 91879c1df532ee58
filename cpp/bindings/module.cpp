#include "bindings/bind.h"
#include "common.h"
#include "memory.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "nntrain's compiled kernels. Use nntrain.functional; this module is its implementation.";
  nntrain::prepare_workers();
  nntrain::keep_freed_memory();
  nntrain::bind::bind_system(m);
  nntrain::bind::bind_gemm(m);
  nntrain::bind::bind_optim(m);
  nntrain::bind::bind_activation(m);
  nntrain::bind::bind_loss(m);
  nntrain::bind::bind_dense_chain(m);
  nntrain::bind::bind_conv(m);
  nntrain::bind::bind_pool(m);
  nntrain::bind::bind_norm(m);
  nntrain::bind::bind_dropout(m);
  nntrain::bind::bind_recurrent(m);
}
