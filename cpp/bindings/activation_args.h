// An activation's name as Python spells it ("relu", "gelu_tanh", ...): the kernels' enum, or a ValueError
// listing the names.
#pragma once

#include <string>

#include "activation.h"
#include "bindings/checks.h"

namespace nntrain::bind {

inline Activation activation_of(const std::string& kind) {
  if (kind == "relu") return Activation::Relu;
  if (kind == "leaky_relu") return Activation::LeakyRelu;
  if (kind == "elu") return Activation::Elu;
  if (kind == "sigmoid") return Activation::Sigmoid;
  if (kind == "tanh") return Activation::Tanh;
  if (kind == "gelu") return Activation::GeluErf;
  if (kind == "gelu_tanh") return Activation::GeluTanh;
  fail("kind: unknown activation '" + kind + "' (relu, leaky_relu, elu, sigmoid, tanh, gelu, gelu_tanh)");
}

}  // namespace nntrain::bind
