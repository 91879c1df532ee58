"""Layers, containers, losses and regularisers with PyTorch's names, shapes and defaults."""

from . import init
from .activation import ELU, GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .container import Flatten, Identity, ModuleDict, ModuleList, Residual, Sequential
from .conv import Conv1d, Conv2d
from .dropout import Dropout
from .embedding import Embedding
from .linear import Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss
from .module import Module, Parameter
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .pool import AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .regularization import L1Penalty, L2Penalty
from .rnn import GRU, LSTM, GRUCell, LSTMCell

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv1d",
    "Conv2d", "CrossEntropyLoss", "Dropout", "ELU", "Embedding", "Flatten", "GELU", "GRU", "GRUCell", "Identity",
    "L1Loss", "L1Penalty", "L2Penalty", "LSTM", "LSTMCell", "LayerNorm", "LeakyReLU", "Linear", "MSELoss",
    "MaxPool1d", "MaxPool2d", "Module", "ModuleDict", "ModuleList", "NLLLoss", "Parameter", "ReLU", "Residual",
    "Sequential", "Sigmoid", "SmoothL1Loss", "Softmax", "Tanh", "init",
]
