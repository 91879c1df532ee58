"""Layers, containers, losses and regularisers with PyTorch's names, shapes and defaults."""

from . import init
from .activation import ELU, GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .container import Flatten, Residual, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .linear import Linear
from .loss import CrossEntropyLoss, L1Loss, MSELoss
from .module import Module, Parameter
from .norm import BatchNorm1d, BatchNorm2d
from .pool import AvgPool2d, MaxPool2d
from .regularization import L1Penalty, L2Penalty

__all__ = [
    "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "CrossEntropyLoss", "Dropout", "ELU", "Flatten",
    "GELU", "L1Loss", "L1Penalty", "L2Penalty", "LeakyReLU", "Linear", "MSELoss", "MaxPool2d", "Module",
    "Parameter", "ReLU", "Residual", "Sequential", "Sigmoid", "Softmax", "Tanh", "init",
]
