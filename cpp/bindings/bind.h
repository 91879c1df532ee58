// One registration function per binding file; module.cpp calls them all.
#pragma once

#include <pybind11/pybind11.h>

namespace nntrain::bind {
void bind_system(pybind11::module_& m);
void bind_gemm(pybind11::module_& m);
void bind_optim(pybind11::module_& m);
void bind_activation(pybind11::module_& m);
void bind_loss(pybind11::module_& m);
void bind_dense_chain(pybind11::module_& m);
void bind_conv(pybind11::module_& m);
void bind_pool(pybind11::module_& m);
void bind_norm(pybind11::module_& m);
void bind_dropout(pybind11::module_& m);
void bind_recurrent(pybind11::module_& m);
}  // namespace nntrain::bind
