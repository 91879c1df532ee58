// One registration function per binding file; module.cpp calls them all.
#pragma once

#include <pybind11/pybind11.h>

namespace nntrain::bind {
void bind_system(pybind11::module_& m);
void bind_gemm(pybind11::module_& m);
void bind_optim(pybind11::module_& m);
}  // namespace nntrain::bind
